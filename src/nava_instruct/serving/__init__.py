"""The OpenAI-compatible server (``serve``) and its standard-library client (``client``)."""
