from lib.scrobbler.boot import service

service()
