"""Small API-format workflows the client tests submit."""

from __future__ import annotations


def image_prompt(prefix: str = "storybuild/picture", *, width: int = 96, height: int = 64, seed: int = 1,
                 ckpt: str = "sd15.safetensors", steps: int = 4) -> dict:
    """A text-to-image workflow in API format: checkpoint, prompt, latent, KSampler, decode, save."""
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a harbor at dawn", "clip": ["1", 1]}},
        "3": {"class_type": "EmptyLatentImage", "inputs": {"width": width, "height": height, "batch_size": 1}},
        "4": {"class_type": "KSampler", "inputs": {
            "model": ["1", 0], "seed": seed, "steps": steps, "cfg": 7.0, "sampler_name": "euler",
            "scheduler": "normal", "positive": ["2", 0], "negative": ["2", 0], "latent_image": ["3", 0],
            "denoise": 1.0}},
        "5": {"class_type": "VAEDecode", "inputs": {"samples": ["4", 0], "vae": ["1", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"images": ["5", 0], "filename_prefix": prefix}},
    }
