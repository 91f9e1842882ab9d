"""LLM annotators from a one-line setting, so users can add or swap models without code.

Format: comma-separated ``name=litellm_model`` items, each optionally followed by ``@KEY_ENV`` (the variable
holding that model's API key), e.g.
``llm_gemini_2_5_flash=gemini/gemini-2.5-flash@GEMINI_API_KEY,llm_local=openai/qwen2.5@LOCAL_KEY``.
"""

from __future__ import annotations

from workforce_assets.annotation.llm import DEFAULT_LLM_ANNOTATORS, LLMAnnotator


def parse_annotators(spec: str | None, api_base: str | None = None) -> list[LLMAnnotator]:
    """Annotators named by ``spec`` (default: the original three); ``api_base`` points them all at one endpoint."""
    if not spec or not spec.strip():
        annotators = list(DEFAULT_LLM_ANNOTATORS)
    else:
        annotators = []
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, sep, rest = item.partition("=")
            if not sep or not name.strip() or not rest.strip():
                raise ValueError(f"LLM annotator {item!r} must look like name=provider/model[@KEY_ENV]")
            model, _, key_env = rest.partition("@")
            annotators.append(LLMAnnotator(name=name.strip(), model=model.strip(), api_key_env=key_env.strip() or None))
        names = [a.name for a in annotators]
        if len(set(names)) != len(names):
            raise ValueError(f"LLM annotator names must be unique, got {names}")
    if api_base:
        from dataclasses import replace

        annotators = [replace(a, api_base=api_base) for a in annotators]
    return annotators
