"""The prompt templates a language model is asked with: packaged, overridable per project, hashed.

One file per question, ``<question>.md``: the system message, a line holding only ``---``, then the
user message, with ``$placeholders`` (``string.Template``: ``$$`` is a dollar sign). A project
overrides a question by putting its own file in its prompts folder. The digest of the text in use,
with ``FORMAT``, goes into the recipe of every answer asked with it, so editing one template
re-asks that question only.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

from ..errors import ConfigError
from ..store.hashing import digest

__all__ = ["FORMAT", "PromptTemplate", "language_name", "load_template"]

#: Bump when the way templates are split or filled changes: every answer is asked again.
FORMAT = 1

_LANGUAGES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "pl": "Polish", "sv": "Swedish", "da": "Danish",
    "no": "Norwegian", "fi": "Finnish", "cs": "Czech", "ru": "Russian", "uk": "Ukrainian",
    "tr": "Turkish", "ja": "Japanese", "zh": "Chinese", "ko": "Korean", "ar": "Arabic",
}


def language_name(code: str) -> str:
    """``de`` -> ``German``: models follow a language's name more reliably than its code."""
    base = code.split("-")[0].split("_")[0].lower()
    return _LANGUAGES.get(base, code)


@dataclass(frozen=True)
class PromptTemplate:
    """One question's template text and where it came from."""

    question: str
    text: str
    source: str

    @cached_property
    def identity(self) -> str:
        """What the template adds to a recipe: the format version and the text's digest."""
        return f"prompt/{FORMAT} {digest(self.text)}"

    def messages(self, **values: str) -> list[dict[str, str]]:
        """The chat messages: system and user, placeholders filled; ConfigError naming the file."""
        system, sep, user = self.text.partition("\n---\n")
        if not sep:
            system, user = "", system
        try:
            filled = [string.Template(part).substitute(values).strip() for part in (system, user)]
        except KeyError as exc:
            known = ", ".join(f"${name}" for name in sorted(values))
            raise ConfigError(
                f"{self.source}: unknown placeholder ${exc.args[0]}; this question knows {known}",
                file=self.source,
            ) from exc
        except ValueError as exc:
            raise ConfigError(f"{self.source}: {exc} (write $$ for a dollar sign)", file=self.source) from exc
        messages = [{"role": "system", "content": filled[0]}] if filled[0] else []
        return [*messages, {"role": "user", "content": filled[1]}]


def load_template(question: str, override_dir: str | Path | None = None) -> PromptTemplate:
    """``question``'s template: ``<override_dir>/<question>.md`` if the project has one, else the packaged one."""
    if override_dir is not None:
        path = Path(override_dir) / f"{question}.md"
        try:
            return PromptTemplate(question, path.read_text(encoding="utf-8"), str(path))
        except FileNotFoundError:
            pass
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read this prompt template: {exc}", file=path) from exc
    packaged = resources.files(__name__).joinpath(f"{question}.md")
    try:
        return PromptTemplate(question, packaged.read_text(encoding="utf-8"), f"storybuild/prompts/{question}.md")
    except FileNotFoundError as exc:
        raise ConfigError(f"no prompt template for the question {question!r}") from exc
