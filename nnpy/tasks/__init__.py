"""Reusable tasks built on the library: a whole job a page or script hands over to nnpy."""

from .image_classifier import ImageClassifierProject
from .sound_classifier import SoundClassifierProject

__all__ = ["ImageClassifierProject", "SoundClassifierProject"]
