"""The production inference API: serves the vetted GGUF behind the OpenAI API."""
