"""One module per DVC stage: read params, call the library, write the outputs."""
