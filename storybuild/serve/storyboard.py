"""The storyboard: one page to review a story's build, served live or written as a static file.

Every scene's picture and clip, every line with its speaker, audio and timing, every sound, the
cast with portraits, quality flags when ``quality.json`` exists, and the final video. Live (under
``storybuild serve``) each picture, clip, line and sound has a reroll button that starts a job and swaps
in the new artifact when it is done; the static copy (``doit storyboard``) hides the buttons and
links files relative to itself, so ``build/<story>/`` can be shared as it is. Plain Python and
``html.escape`` rather than a template engine, so the static stage needs nothing beyond the core.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any, Callable

from ..graph.project import Project, StoryEntry
from ..story.model import NARRATOR

__all__ = ["artifacts_of", "render"]

STATIC = Path(__file__).parent / "static"
REROLLABLE = ("scene", "animate", "character", "sfx", "tts")
Link = Callable[[str], str]  # a build-relative path -> the URL the page uses for it


def artifacts_of(project: Project, entry: StoryEntry) -> list[str]:
    """The build-relative files the page shows (whether or not they exist yet)."""
    story = entry.story
    files = ["final.mp4", "story.vtt", "timeline.json", "cast.json", "quality.json"]
    files += [f"scenes/{s.id}.png" for s in story.scenes] + [f"clips/{s.id}.mp4" for s in story.scenes]
    files += [f"lines/{line.id}.wav" for line in story.lines] + [f"sfx/{cue.id}.wav" for cue in story.cues]
    files += [f"characters/{c.name}.png" for c in story.characters if c.name != NARRATOR]
    return files


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _quality(data: Any) -> dict[str, tuple[bool, str]]:
    """Line id -> (flagged, what to show), from quality.json (``graph/quality.py``'s report)."""
    lines = data.get("lines") if isinstance(data, dict) else None
    flags = {}
    for record in lines if isinstance(lines, list) else []:
        if not isinstance(record, dict) or "id" not in record:
            continue
        flagged, wer = bool(record.get("flagged")), record.get("wer")
        rate = f"WER {wer:.2f}" if isinstance(wer, (int, float)) else ""
        heard = f' heard "{record["heard"]}"' if flagged and record.get("heard") is not None else ""
        flags[str(record["id"])] = (flagged, f"{'flagged' if flagged else 'ok'} {rate}{heard}".strip())
    return flags


def _flag(flag: tuple[bool, str] | None) -> str:
    if flag is None:
        return ""
    return f'<span class="flag {"flagged" if flag[0] else "ok"}">{escape(flag[1])}</span>'


def _button(live: bool, story: str, stage: str, item: str, path: str) -> str:
    if not live:
        return ""
    return (f'<button class="reroll" data-stage="{escape(stage)}" data-item="{escape(item)}" '
            f'data-path="{escape(path)}" data-story="{escape(story)}">reroll {escape(stage)}</button>'
            f'<span class="job" data-for="{escape(stage)}/{escape(item)}"></span>')


def _media(kind: str, path: str, link: Link, exists: bool, extra: str = "") -> str:
    if not exists:
        return f'<div class="missing" data-path="{escape(path)}">{escape(path)}: not built yet</div>'
    src = escape(link(path))
    if kind == "img":
        return f'<img data-path="{escape(path)}" src="{src}" alt="{escape(path)}"{extra}>'
    tag = "video" if kind == "video" else "audio"
    return f'<{tag} data-path="{escape(path)}" src="{src}" controls preload="metadata"{extra}></{tag}>'


def render(project: Project, entry: StoryEntry, link: Link, live: bool) -> str:
    """The storyboard page of ``entry`` as HTML; ``link`` makes each artifact's URL."""
    story, slug = entry.story, entry.slug
    build = project.path(entry.layout.dir)
    exists = lambda path: (build / path).is_file()  # noqa: E731 - one short predicate, used throughout
    timeline = _json(build / "timeline.json") or {}
    times = {line["id"]: line for line in timeline.get("lines", [])}
    cue_times = {cue["id"]: cue for cue in timeline.get("cues", [])}
    flags = _quality(_json(build / "quality.json")) if exists("quality.json") else {}
    cast = {m["name"]: m for m in (_json(build / "cast.json") or {}).get("characters", [])}
    out = [f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(story.title)} · storyboard</title>',
           f'<style>{(STATIC / "storyboard.css").read_text(encoding="utf-8")}</style></head>',
           f'<body data-story="{escape(slug)}" data-live="{int(live)}"><header><h1>{escape(story.title)}</h1>',
           f'<p class="meta">{len(story.scenes)} scenes, {len(story.lines)} lines, {len(story.cues)} sounds'
           f'{" · quality checked" if flags else ""}</p></header>']
    out.append('<section class="final"><h2>The video</h2>')
    if exists("final.mp4"):
        track = (f'<track kind="subtitles" src="{escape(link("story.vtt"))}" srclang="{escape(story.language)}" default>'
                 if exists("story.vtt") else "")
        out.append(f'<video data-path="final.mp4" src="{escape(link("final.mp4"))}" controls preload="metadata">{track}</video>')
    else:
        out.append(_media("video", "final.mp4", link, False))
    out.append("</section><section class=\"cast\"><h2>Cast</h2><ul>")
    for character in story.characters:
        member = cast.get(character.name, {})
        voice = member.get("voice", {}).get("name", "") if isinstance(member.get("voice"), dict) else ""
        portrait = "" if character.name == NARRATOR else _media(
            "img", f"characters/{character.name}.png", link, exists(f"characters/{character.name}.png"))
        out.append(f'<li class="member"><div class="portrait">{portrait}</div><strong>{escape(character.name)}</strong>'
                   f'<span>{escape(member.get("gender") or character.gender or "")} {escape(voice)}</span>'
                   f'<p>{escape(member.get("look", ""))}</p>'
                   f'{"" if character.name == NARRATOR else _button(live, slug, "character", character.name, f"characters/{character.name}.png")}</li>')
    out.append("</ul></section>")
    for scene in story.scenes:
        picture, clip = f"scenes/{scene.id}.png", f"clips/{scene.id}.mp4"
        span = next((s for s in timeline.get("scenes", []) if s["id"] == scene.id), None)
        when = f'{span["start"]:.2f}–{span["end"]:.2f} s' if span else ""
        out.append(f'<section class="scene" id="scene-{escape(scene.id)}"><h2>{escape(scene.title)} <small>{when}</small></h2>'
                   f'<p class="description">{escape(scene.description)}</p><div class="pictures">'
                   f'<figure>{_media("img", picture, link, exists(picture))}{_button(live, slug, "scene", scene.id, picture)}</figure>'
                   f'<figure>{_media("video", clip, link, exists(clip))}{_button(live, slug, "animate", scene.id, clip)}</figure>'
                   f'</div><ol class="items">')
        for item in scene.items:
            if item.kind == "line":
                timed = times.get(item.id)
                timing = f'{timed["start"]:.2f}–{timed["end"]:.2f} s' if timed else ""
                flag = flags.get(item.id)
                audio = f"lines/{item.id}.wav"
                out.append(f'<li class="line" data-line="{item.id}"><span class="speaker">{escape(item.speaker)}</span>'
                           f'<span class="text">{escape(item.text)}</span><span class="timing">{timing}</span>'
                           f'{_flag(flag)}'
                           f'{_media("audio", audio, link, exists(audio))}{_button(live, slug, "tts", item.id, audio)}</li>')
            else:
                timed = cue_times.get(item.id)
                timing = f'{timed["start"]:.2f} s' if timed else ""
                sound = f"sfx/{item.id}.wav"
                out.append(f'<li class="cue" data-cue="{item.id}"><span class="speaker">sound</span>'
                           f'<span class="text">{{{escape(item.text)}}}</span>'
                           f'<span class="timing">{timing}</span>'
                           f'{_media("audio", sound, link, exists(sound))}{_button(live, slug, "sfx", item.id, sound)}</li>')
        out.append("</ol></section>")
    if live:
        out.append('<script src="/static/storyboard.js"></script>')
    out.append("</body></html>")
    return "\n".join(out)
