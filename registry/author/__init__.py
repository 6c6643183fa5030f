"""Authoring registry transactions: controller keys, key files, the genesis block, endorsements."""

from registry.author.controller import Controller, KeyFileError
from registry.author.endorse import endorse
from registry.author.genesis import genesis_block
from registry.author.keyfile import ControllerFile, load_controller, save_controller

__all__ = ["Controller", "ControllerFile", "KeyFileError", "endorse", "genesis_block",
           "load_controller", "save_controller"]
