"""Data layer: decoders, frame sampling, clip transforms and the sample type they share."""
