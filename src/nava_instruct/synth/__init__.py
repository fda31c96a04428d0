"""Pieces of the NAVA-Instruct generator: random problems, NAVA rendering, phrasing, tasks, card.

``problems`` draws navigation problems (``nava.domain.Problem``) with nice numbers,
``phrasing`` turns their values into words, ``render`` turns them into NAVA source, ``self_check``
runs the toolkit self-check, and ``prompts`` (with ``user_requests`` for requests in users'
words), ``explain``, ``fixes`` and ``edits`` build the four task families. ``card`` summarises a
generated dataset.
"""
