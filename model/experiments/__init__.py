"""Running scenarios and writing their outputs: the layer between the CLI and the model."""
