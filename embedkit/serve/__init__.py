"""The HTTP query service: ``embedkit serve`` (``pip install "embedkit[serve]"``).

A JSON API and an explorer page over one :class:`~embedkit.session.QuerySession`, on
FastAPI and uvicorn. :mod:`.settings` (what to serve, and the limits on requests) imports
neither, so the command line can check for them and say how to install them; :mod:`.app`
(the endpoints) and :mod:`.server` (sockets, workers, signals) need them. Nothing below
this package imports it.
"""
