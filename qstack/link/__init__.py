"""The link layer: heralded entanglement between neighbours as a service (Dahlberg et al. 2019).

The service interface is :mod:`qstack.link.service` (CREATE, OK, ERR, EXPIRE); the per-node
protocol is :class:`~qstack.link.protocol.LinkLayer`; link generation schemes are plug-ins in
:data:`qstack.physical.station.LINK_SCHEMES`.
"""

from .protocol import LinkEnd, LinkLayer, bell_coefficients
from .service import UNTIL_STOPPED, LinkCreate, LinkErr, LinkError, LinkExpire, LinkOK, LinkUser

__all__ = ["LinkCreate", "LinkEnd", "LinkErr", "LinkError", "LinkExpire", "LinkLayer", "LinkOK", "LinkUser",
           "UNTIL_STOPPED", "bell_coefficients"]
