"""Tests of the synthetic farm data package and its DVC stages."""
