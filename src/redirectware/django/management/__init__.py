"""``manage.py`` commands of redirectware (the ``redirectware.django`` app)."""
