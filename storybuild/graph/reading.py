"""The reading stages: the questions asked of the language model, each answer a build artifact.

    scene_prompt  prompts/<scene>.json  what a scene's picture shows (place, props, time, weather)
    cues          cues.json             the sounds the text implies beyond its {cues}
    metadata      metadata.json, description.txt, tags.txt (and answers/metadata.json)

A question is asked once and its answer kept until its recipe changes. Each recipe holds the
backend (``backend_recipe``), what shapes the question beyond it (``question_identity``: a prompt
template's hash for a model, the rules' version for rules) and only the inputs of that question:
a scene's prompt depends on that scene's description, the style and who speaks in it, so editing
one scene re-asks one question; switching model re-asks all of them, switching back reuses them
from the cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..store.atomic import json_text
from ..story.model import NARRATOR, Scene, Story
from .artifact import Artifact, Request
from .project import Project, StoryEntry

METADATA_RULES = 1  # chapters and tag rules of storybuild.metadata; bump when they change


def style_of(entry: StoryEntry) -> str:
    """The art style: the story's ``style:`` header, else the project's setting."""
    return entry.story.style or entry.settings.style


def question_recipe(project: Project, entry: StoryEntry, question: str) -> dict:
    """The recipe part every question shares: which backend answers it, and how it is asked."""
    return {
        "llm": project.backend_recipe(entry, "llm"),
        "question": question,
        "identity": project.backend(entry, "llm").question_identity(question),
    }


def scene_prompt_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """prompts/<scene>.json: each scene's description read as a picture."""
    story, layout, style = entry.story, entry.layout, style_of(entry)
    asking = question_recipe(project, entry, "scene_prompt")
    for scene in story.scenes:

        def build(request: Request, out: dict[str, Path], scene: Scene = scene) -> None:
            answer = project.backend(entry, "llm").scene_prompt(story, scene, style)
            out["prompt.json"].write_text(json_text(answer.model_dump(mode="json")), encoding="utf-8")

        yield Artifact(
            stage="scene_prompt", item=f"{entry.slug}/{scene.id}",
            targets={"prompt.json": layout.scene_prompt(scene.id)},
            recipe={**asking, "description": scene.description, "style": style, "characters": scene.speakers,
                    "language": story.language},
            build=build, runtime=project.runtime, title=f"what scene {scene.id} shows",
        )


def cues_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """cues.json: the sounds the text implies, when ``audio.infer_cues`` is on."""
    if not entry.settings.audio.infer_cues:
        return
    story, layout = entry.story, entry.layout

    def build(request: Request, out: dict[str, Path]) -> None:
        cues = project.backend(entry, "llm").infer_cues(story)
        known = {line.id for line in story.lines}
        cues = [cue for cue in cues if cue.line in known]  # a model may name a line that does not exist
        out["cues.json"].write_text(json_text([cue.model_dump(mode="json") for cue in cues]), encoding="utf-8")

    yield Artifact(
        stage="cues", item=entry.slug, targets={"cues.json": layout.inferred_cues},
        # What the backend's answer reads (every line for a model; the narration for the rules),
        # so an edit the answer cannot see leaves cues.json alone.
        recipe={**question_recipe(project, entry, "infer_cues"),
                "story": project.backend(entry, "llm").cues_reads(story), "language": story.language},
        build=build, runtime=project.runtime, title=f"sounds implied in {story.title}",
    )


def _own_title(story: Story) -> str:
    """The story's ``title:`` header, or "" when its title is only the slug made readable."""
    from_slug = " ".join(word.capitalize() for word in story.slug.split("-") if word)
    return "" if story.title == from_slug else story.title


def metadata_artifacts(project: Project, entry: StoryEntry) -> Iterator[Artifact]:
    """answers/metadata.json (the model's words), then metadata.json, description.txt and tags.txt."""
    story, layout = entry.story, entry.layout
    question = {
        "title": story.title, "language": story.language,
        "scenes": [[s.id, s.description, [[ln.speaker, ln.text] for ln in s.lines]] for s in story.scenes],
        "characters": [c.name for c in story.characters if c.name != NARRATOR],
    }

    def ask(request: Request, out: dict[str, Path]) -> None:
        answer = project.backend(entry, "llm").metadata(story)
        out["answer.json"].write_text(json_text(answer.model_dump(mode="json")), encoding="utf-8")

    yield Artifact(
        stage="metadata", item=f"{entry.slug}/answer", targets={"answer.json": layout.metadata_answer},
        recipe={**question_recipe(project, entry, "metadata"), **question}, build=ask, runtime=project.runtime,
        title=f"title, description and tags of {story.title}",
    )

    titles = {scene.id: scene.title for scene in story.scenes}
    own_title = _own_title(story)

    def build(request: Request, out: dict[str, Path]) -> None:
        from ..backends.llm import Metadata
        from ..metadata import publish
        from ..timeline import Timeline

        answer = Metadata.model_validate_json(Path(layout.metadata_answer).read_text(encoding="utf-8"))
        published = publish(answer, Timeline.load(layout.timeline), titles, own_title, story.language)
        out["metadata.json"].write_text(json_text(published.model_dump(mode="json")), encoding="utf-8")
        out["description.txt"].write_text(published.description, encoding="utf-8")
        out["tags.txt"].write_text(", ".join(published.tags) + "\n", encoding="utf-8")

    yield Artifact(
        stage="metadata", item=entry.slug,
        targets={"metadata.json": layout.metadata, "description.txt": layout.description, "tags.txt": layout.tags},
        recipe={"rules": METADATA_RULES, "titles": titles, "own_title": own_title, "language": story.language},
        build=build, runtime=project.runtime, inputs=[layout.metadata_answer, layout.timeline],
        title=f"metadata of {story.title}",
    )
