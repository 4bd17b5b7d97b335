"""Protocol clients for remote services (ComfyUI, OpenAI-compatible servers): no pipeline knowledge."""
