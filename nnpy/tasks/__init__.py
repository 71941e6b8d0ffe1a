"""Reusable tasks built on the library: a whole job a page or script hands over to nnpy."""

from .image_classifier import ImageClassifierProject

__all__ = ["ImageClassifierProject"]
