"""The product's HTTP surfaces besides the console: tracking intake, the embed script, readiness and
metrics, the demo website."""
