from lib.scrobbler.service import run

run()
