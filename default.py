from lib.scrobbler.script import run

run()
