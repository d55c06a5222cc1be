"""Code that runs inside Rasa (the Python 3.10 environment), not in the product: kept tiny."""
