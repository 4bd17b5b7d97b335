"""The story: its model and its parser."""

from .model import NARRATOR, OPENING_SCENE, Character, Cue, Line, Scene, Story
from .parser import parse_story, parse_text

__all__ = [
    "NARRATOR",
    "OPENING_SCENE",
    "Character",
    "Cue",
    "Line",
    "Scene",
    "Story",
    "parse_story",
    "parse_text",
]
