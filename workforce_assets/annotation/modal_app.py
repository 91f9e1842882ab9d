"""Modal app: a GPU class that loads an embedding model once per container and embeds chunks of texts.

Deploy (one command, from the repository root, after `modal token new`):

    modal deploy workforce_assets/annotation/modal_app.py

then set ``WORKFORCE_MODAL_APP=workforce-assets-embeddings`` (and optionally ``WORKFORCE_MODAL_EMBEDDING_MODEL``
to one of ``BAKED_MODELS``) where the pipeline runs. The models are downloaded into the image when it is
built, so containers never download at run time. Importing this module needs neither Modal credentials
nor a network: only ``modal deploy`` talks to Modal.
"""

import modal

APP_NAME = "workforce-assets-embeddings"
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
#: Models baked into the image (a larger one for better keyphrases); a model not listed is refused.
BAKED_MODELS = (DEFAULT_MODEL, "BAAI/bge-large-en-v1.5")
GPU = "L4"
MODEL_DIR = "/models"


def _download_models() -> None:  # runs once, at image build time, on Modal
    from sentence_transformers import SentenceTransformer

    for name in BAKED_MODELS:
        SentenceTransformer(name, cache_folder=MODEL_DIR)


image = (
    modal.Image.debian_slim(python_version="3.11")
    .pip_install("sentence-transformers>=3", "torch", "numpy")
    .run_function(_download_models)
    .env({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
)

app = modal.App(APP_NAME, image=image)


@app.cls(gpu=GPU, scaledown_window=120, timeout=600)
class Embedder:
    model_name: str = modal.parameter(default=DEFAULT_MODEL)

    @modal.enter()
    def load(self) -> None:
        from sentence_transformers import SentenceTransformer

        if self.model_name not in BAKED_MODELS:
            raise ValueError(f"model {self.model_name!r} is not baked into the image; choose from {BAKED_MODELS}")
        self.model = SentenceTransformer(self.model_name, cache_folder=MODEL_DIR, device="cuda",
                                         local_files_only=True)

    @modal.method()
    def embed(self, texts: list[str]):
        import numpy as np

        return np.asarray(self.model.encode(texts, batch_size=128, show_progress_bar=False), dtype=np.float32)
