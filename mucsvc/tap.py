"""``twistd muc``: command-line options and the one place that wires the service.

Everything the process runs is a named child of one ``MultiService``
(``component``, ``web``, …), so another Twisted service in the same process
finds any of them with ``parent.getServiceNamed(name)``.
"""

from __future__ import annotations

import os
import sys
import time

from twisted.application import service, strports
from twisted.python import usage
from twisted.web import server

import mucsvc
from mucsvc.component import MUCComponent
from mucsvc.config import Config, ConfigError, expiry_seconds, load_config
from mucsvc.hats.commands import hat_commands
from mucsvc.hats.room_commands import RoomHatCommands
from mucsvc.hats.service import HatsService
from mucsvc.muc import MUCService
from mucsvc.settings import service_limits
from mucsvc.slot_service import SlotService, new_holder_id
from mucsvc.storage import StorageError, StoreDamaged, backends
from mucsvc.storage.pg_slots import SlotTokens
from mucsvc.storage.secret import SecretError
from mucsvc.storage.service import StorageService
from mucsvc.protocol.adhoc import NS_COMMANDS, AdHocCommands
from mucsvc.protocol.router import StanzaRouter
from mucsvc.protocol.served_rooms import ServedRooms
from mucsvc.app.former_occupants import FormerOccupants
from mucsvc.storage.pg_occupants import OccupantLists
from mucsvc.protocol.service_commands import destroy_rooms_command
from mucsvc.protocol.service_iq import ServiceHandler
from mucsvc.stats import TrafficStats
from mucsvc.web.app import WebApp
from mucsvc.web.hats import HatsApi
from mucsvc.web.muc_admin import MucAdminApi
from mucsvc.web.requests import guarded
from mucsvc.web.slot_guard import SlotGuard

CONFIG_ENVIRONMENT_VARIABLE = "MUCSVC_CONFIG"


class Options(usage.Options):
    synopsis = "[options]"
    longdesc = (
        "Run the XMPP Multi-User Chat service as an external component of an "
        "XMPP server. Settings come from the TOML file given with --config "
        f"(or ${CONFIG_ENVIRONMENT_VARIABLE}); the options below override it."
    )
    optParameters = [
        ["config", "c", None, "TOML configuration file"],
        ["jid", None, None, "the service's domain, e.g. muc.example.org (config: jid)"],
        ["component-host", None, None, "host server address (config: component_host)"],
        ["component-port", None, None, "host server component port (config: component_port)"],
        ["http-endpoint", None, None,
         "strports endpoint of the HTTP service (config: http_endpoint)"],
    ]

    def postOptions(self):
        try:
            self.config = config_from_options(self, os.environ)
        except ConfigError as e:
            # One line and a non-zero exit; twistd would print usage or a traceback.
            sys.stderr.write(f"twistd muc: {e}\n")
            raise SystemExit(1)


def config_from_options(options, environ) -> Config:
    port = options["component-port"]
    if port is not None:
        try:
            port = int(port)
        except ValueError:
            raise ConfigError("component_port", f"--component-port {port!r} is not a number") from None
    overrides = {
        "jid": options["jid"],
        "component_host": options["component-host"],
        "component_port": port,
        "http_endpoint": options["http-endpoint"],
    }
    path = options["config"] or environ.get(CONFIG_ENVIRONMENT_VARIABLE)
    return load_config(path, overrides, environ)


def open_storage(config: Config):
    """``(room store, service secret)`` from the ``storage`` setting; a store
    or secret that cannot be opened is a config mistake."""
    try:
        store = backends.open_store(config.storage)
    except StoreDamaged as e:
        raise ConfigError("storage", str(e)) from None
    except Exception as e:  # sqlite3, psycopg and storage errors alike
        raise ConfigError("storage", f"cannot open {backends.shown(config.storage)!r}: "
                                     f"{_without_password(e, config.storage)}") from None
    try:
        secret = backends.load_secret(
            store, backends.secret_source(config.storage, config.service_secret_file, store))
    except SecretError as e:
        store.close()
        raise ConfigError("service_secret_file", str(e)) from None
    except StorageError as e:
        store.close()
        raise ConfigError("storage", str(e)) from None
    return store, secret


def _without_password(error, setting: str) -> str:
    """An error's text, with the setting in it (if any) shown masked."""
    return str(error).replace(setting, backends.shown(setting))


def makeService(options) -> service.MultiService:
    try:
        return service_from_config(options.config)
    except ConfigError as e:
        sys.stderr.write(f"twistd muc: {e}\n")
        raise SystemExit(1)


def service_from_config(config: Config, reactor=None) -> service.MultiService:
    """Build the whole service tree from validated settings."""
    if reactor is None:
        from twisted.internet import reactor

    root = service.MultiService()

    shared = config.component_slots > 1  # several processes, one database
    component = MUCComponent(
        config.component_host, config.component_port, config.jid,
        config.component_secret, reactor=reactor, log_traffic=config.log_traffic, hold=shared)
    component.setName("component")
    component.setServiceParent(root)
    # Every stanza out passes the component's send (the room broadcasts and
    # every handler's replies alike): count them there, before anything uses it.
    traffic = TrafficStats()
    raw_send = component.send
    component.send = traffic.counting(raw_send)
    # With several processes, which rooms are this one's, as ejabberd routes
    # them; another's copy (read from the database) is not to be changed here.
    served = elsewhere = None
    if shared:
        served = ServedRooms(config.jid, component.send, reactor, lambda: component.link.is_up)

        def elsewhere(room_jid):
            return served.served(room_jid) is False

    store, secret = open_storage(config)
    try:
        archive = backends.open_archive(config.storage, store)
    except Exception as e:
        store.close()
        raise ConfigError("storage", f"cannot open the archive in "
                                     f"{backends.shown(config.storage)!r}: {e}") from None
    storage = StorageService(store, archive, getattr(store, "link", None), reactor, hold=shared)
    storage.setName("storage")
    storage.setServiceParent(root)

    try:
        muc = MUCService(config.jid, component.send, reactor, admins=config.admins,
                         limits=service_limits(config), store=store, secret=secret,
                         batch_send=traffic.counting_batches(raw_send),
                         hats_legacy_element=config.muc_hats_legacy_element,
                         archive=archive, archive_flush_interval=config.muc_log_flush_interval,
                         archive_expires_after=expiry_seconds(config.muc_log_expires_after),
                         max_archive_results=config.max_archive_query_results,
                         load_now=not shared)
    except StorageError as e:  # a damaged file shows when the rooms are read
        store.close()
        raise ConfigError("storage", str(e)) from None
    muc.setName("muc")
    muc.setServiceParent(root)

    hats = HatsService(muc, elsewhere)
    hats.setName("hats")
    hats.setServiceParent(root)
    RoomHatCommands(hats.wardrobe, component.send).install(muc.handler)

    service_handler = ServiceHandler(component.send, name="mucsvc", version=mucsvc.__version__,
                                     public_rooms=muc.public_rooms)
    commands = AdHocCommands(component.send, config.jid, muc.is_admin)
    commands.add(destroy_rooms_command(muc, elsewhere))
    for command in hat_commands(hats):
        commands.add(command)
    service_handler.extra_features.append(NS_COMMANDS)
    service_handler.iq_handlers[(NS_COMMANDS, "command")] = commands.handle
    service_handler.item_nodes[NS_COMMANDS] = commands.items

    router = StanzaRouter(config.jid, service_handler, muc.handler, traffic=traffic,
                          served=served)
    router.setHandlerParent(component)

    slots = None
    if shared:
        try:
            tokens = SlotTokens(config.storage, config.component_slots, config.component_slot_lease)
        except Exception as e:
            store.close()
            raise ConfigError("storage", f"cannot open {backends.shown(config.storage)!r} for "
                                         f"the slot leases: "
                                         f"{_without_password(e, config.storage)}") from None
        holder = new_holder_id()
        former = FormerOccupants(muc.app, OccupantLists(storage.link), holder, reactor)
        slots = SlotService(tokens, component, storage, muc, reactor,
                            renewal=config.component_slot_renewal,
                            lease=config.component_slot_lease, stop_process=reactor.stop,
                            monotonic=time.monotonic, holder=holder, served=served,
                            former=former)
        slots.setName("slots")
        slots.setServiceParent(root)

    app = WebApp(component.link, muc, kick_authorization=config.http_muc_kick_authorization_header,
                 traffic=traffic, database=storage.link, slots=slots,
                 moderate_authorization=config.http_muc_moderate_authorization_header)
    guards = {b"/muc_kick": app.kicks.authorization}
    body_limits = []
    if app.moderation is not None:
        guards[b"/muc_moderate"] = app.moderation.authorization
    if config.http_muc_hats_authorization_header is not None:
        hats_api = HatsApi(hats, config.http_muc_hats_authorization_header)
        app.hats = hats_api.resource()
        guards[b"/muc_hats"] = hats_api.authorization
    if config.http_muc_admin_authorization_header is not None:
        admin_api = MucAdminApi(muc, config.http_muc_admin_authorization_header, served)
        app.muc_admin = admin_api.resource()
        guards[b"/muc_admin"] = admin_api.authorization
        body_limits.append((b"/muc_admin/rooms/", b"/avatar", admin_api.avatar_body_limit))
    # No route takes a form, and none but a room's avatar a body over the
    # kick's limit.
    root_resource = app.resource() if slots is None else \
        SlotGuard(app.resource(), slots, served, config.jid)
    site = server.Site(root_resource, requestFactory=guarded(guards, body_limits),
                       parsePOSTFormSubmission=False)
    web = strports.service(config.http_endpoint, site)
    web.setName("web")
    web.setServiceParent(root)
    return root
