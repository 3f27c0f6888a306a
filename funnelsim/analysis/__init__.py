"""What is concluded from a sweep: variance-based sensitivity and main effects, as pure functions."""
