"""openaudit: licence and openness audits of Hugging Face Hub models, with cited evidence."""

__version__ = "0.1.0"
