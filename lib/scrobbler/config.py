"""Build-time constants. `make zip CLIENT_ID=… AUTH=v1|v2` rewrites the two marked lines in the zip."""
import os

ADDON_ID = "service.scrobbler.simkl"
APP_NAME = "kodi-simkl-scrobbler"

# The Simkl app registration this build talks as; empty means "not configured".
CLIENT_ID = ""
# "v2" = device flow with refresh tokens (/oauth2/*), "v1" = PIN flow (/oauth/pin, for a V1 app until Simkl
# ends it, around April 2027); must match the app type.
AUTH_FLOW = "v2"

# Files in the add-on's profile folder (addon_data), and the message our scripts send the service.
OUTBOX_FILE = "outbox.sqlite"
FLUSH_MESSAGE = "flush"
SYNC_MESSAGE = "sync"
IMPORT_MESSAGE = "import"
ACCOUNT_MESSAGE = "account"  # a script logged in or out: the service mirrors token.json into the settings
ACCOUNT_ACK_PROPERTY = ADDON_ID + ".account"  # Home window property: the service has mirrored hand-off N

DEFAULT_API_URL = "https://api.simkl.com"
PIN_URL = "https://simkl.com/pin"


def client_id() -> str:
    return os.environ.get("SIMKL_CLIENT_ID") or CLIENT_ID


def auth_flow() -> str:
    flow = (os.environ.get("SIMKL_AUTH") or AUTH_FLOW).strip().lower()
    return flow if flow in ("v1", "v2") else "v2"


def api_url() -> str:
    return (os.environ.get("SIMKL_API_URL") or DEFAULT_API_URL).rstrip("/")
