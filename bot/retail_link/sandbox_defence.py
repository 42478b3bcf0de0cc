"""The sandbox's stand-in for PerimeterX: its block pages, and a login-page script setting `_px3`."""

from __future__ import annotations

import hashlib
import hmac
import secrets

SENSOR_COOKIE = "_px3"
# The login host's JSON APIs; Walmart answered them 412 without a browser (PROTOCOL.md §6).
GUARDED_PATHS = frozenset({"/api/login", "/api/mfa/sendCode", "/api/mfa/validateCode"})

# What Walmart's edge answers a refused request with (PROTOCOL.md §6).
PX_BLOCK_PAGE = """<!DOCTYPE html><html><head><title>Access to this page has been denied</title>
</head><body><h1>Access to this page has been denied.</h1>
<p>Please verify you are a human: press and hold the button (captcha challenge).</p>
<div id="px-captcha"></div><script src="/px/client/main.min.js"></script>
<p>Powered by PerimeterX, Inc.</p></body></html>"""
CAPTCHA_PAGE = """<!DOCTYPE html><html><head><title>Robot or human?</title></head><body>
<h1>Robot or human?</h1><p>Activate and hold the button to confirm that you're human.</p>
<div id="px-captcha"></div><!-- perimeterx challenge --></body></html>"""
PRECONDITION_PAGE = """<!DOCTYPE html><html><head><title>412 Precondition Failed</title></head>
<body><h1>Precondition Failed</h1><p>Request blocked.</p></body></html>"""


# Real sensors fingerprint the browser and post to a collector; this one only proves that the
# page's JavaScript ran: it hashes a server-signed challenge (32-bit FNV-1a) into the cookie.
_SCRIPT = """<script>
(function () {
  var challenge = "%s", h = 0x811c9dc5;
  for (var i = 0; i < challenge.length; i++) {
    h ^= challenge.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  document.cookie = "%s=" + challenge + ":" + h.toString(16) + "; path=/";
})();
</script>"""


def fnv1a(text: str) -> str:
    """The hash the page's script computes, as lower-case hex without padding."""
    h = 0x811C9DC5
    for char in text:
        h ^= ord(char)
        h = (h * 0x01000193) & 0xFFFFFFFF
    return f"{h:x}"


class SensorCheck:
    """Issues page scripts and checks the cookie they set; challenges are signed, so stateless."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def challenge(self) -> str:
        nonce = secrets.token_hex(8)
        return f"{nonce}.{self._sign(nonce)}"

    def script(self) -> str:
        return _SCRIPT % (self.challenge(), SENSOR_COOKIE)

    def accepts(self, cookie: str | None) -> bool:
        challenge, _, digest = (cookie or "").rpartition(":")
        nonce, _, mac = challenge.partition(".")
        return (bool(nonce) and hmac.compare_digest(mac, self._sign(nonce))
                and hmac.compare_digest(digest, fnv1a(challenge)))

    def _sign(self, nonce: str) -> str:
        return hmac.new(self._key, nonce.encode(), hashlib.sha256).hexdigest()[:16]
