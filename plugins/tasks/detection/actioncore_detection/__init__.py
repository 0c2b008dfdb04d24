"""Spatio-temporal action detection: AVA data, the detection task, frame-mAP."""
