"""A Django project with the admin and ``map: {database: default}``, run by real servers.

Its database comes from the environment (``ADMIN_SITE_DB``): ``sqlite:PATH`` or
``postgres:HOST:PORT:NAME``; see :mod:`tests.postgres` for the PostgreSQL cluster the tests
start. Each response carries the serving process's id (``X-Worker-Pid``), so a test can
tell the workers of a gunicorn apart.
"""
