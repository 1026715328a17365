from lib.scrobbler.ui.script import run

run()
