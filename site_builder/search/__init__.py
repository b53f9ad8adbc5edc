"""Search: the static index for any host, the Whoosh index for the command line and servers."""
