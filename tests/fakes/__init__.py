"""Real-protocol fakes of remote services, served over HTTP on 127.0.0.1."""
