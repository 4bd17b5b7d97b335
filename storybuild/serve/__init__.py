"""``storybuild serve``: a job API over the build graph, durable jobs, signed webhooks, a storyboard page.

A job is a doit build run as its own process, so it is resumable, cached and incremental like any
other build; the server only queues, supervises and reports. See docs/serve.md.

    settings.py   ServeConfig: host, port, token, concurrency, database, webhook policy
    jobs.py       the durable job store and webhook outbox (SQLite WAL, or PostgreSQL)
    build.py      the job process: doit with a reporter that writes progress events to a pipe
    runner.py     the queue: priorities, at most ``max_concurrent`` builds, cancel, restart recovery
    webhooks.py   signed, retried deliveries of job events
    artifacts.py  files under build/<story>/, refusing every path that leaves it
    stories.py    story upload, listing and reroll
    storyboard.py the review page's model and HTML
    app.py        the FastAPI application
    commands.py   the ``storybuild serve`` command
"""
