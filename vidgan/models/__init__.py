"""Networks and per-frame estimators behind the stylize and interpolate filters."""
