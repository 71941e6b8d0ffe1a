"""Tools for checking layers and losses: the finite-difference gradient check the tests use."""

from .gradcheck import check_layer, check_loss

__all__ = ["check_layer", "check_loss"]
