"""Annotation domain (pure core): keyword filters, LLM annotators, embeddings, annotation matrix."""
