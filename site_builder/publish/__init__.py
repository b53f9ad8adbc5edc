"""Publishing: the rendered files written to output/ atomically."""
