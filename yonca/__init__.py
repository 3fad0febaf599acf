"""Shared plumbing for the Yonca MLOps entry points: CLI, logging, privacy."""
