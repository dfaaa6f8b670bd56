"""The example shop: a Django project behind redirectware."""
