"""The hats service in the real service tree: found by name from another
Twisted service, wired to the web app, the
ad-hoc commands and the config."""

from treq.testing import StubTreq
from twisted.application import service
from twisted.internet.testing import MemoryReactorClock
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from mucsvc.config import ConfigError, parse_config
from mucsvc.hats import HatsError, IHatsService
from mucsvc.hats.commands import ADD_NODE, REMOVE_NODE
from mucsvc.protocol.adhoc import NS_COMMANDS
from mucsvc.protocol.router import StanzaRouter
from mucsvc.rooms import Affiliation
from mucsvc.tap import service_from_config

ROOM = "garden@muc.example.org"
TEACHER = "http://example.org/hats/teacher"


class Provisioner(service.Service):
    """Another service of the process: it finds the hats API by name."""

    hats = None

    def startService(self):
        super().startService()
        self.hats = self.parent.getServiceNamed("hats")

    def give_hat(self, user, room, hat):
        return self.hats.add_user_hat(user, room, hat, {"active": True, "title": "Teacher"})


class ServiceTreeTests(unittest.TestCase):
    def tree(self, **settings):
        config = parse_config({"jid": "muc.example.org", "component_secret": "x",
                               "http_muc_kick_authorization_header": "Bearer kick",
                               "http_endpoint": "tcp:0:interface=127.0.0.1",
                               "storage": self.mktemp() + ".sqlite", **settings}, environ={})
        root = service_from_config(config, reactor=MemoryReactorClock())
        self.addCleanup(root.getServiceNamed("storage").store.close)
        return root

    def add_room(self, root):
        rooms = root.getServiceNamed("muc").rooms
        rooms.add(rooms.new_room(ROOM, affiliations={"juliet@example.org": Affiliation.MEMBER}))

    def test_another_service_finds_it_by_name(self):
        root = self.tree()
        self.add_room(root)
        provisioner = Provisioner()
        provisioner.setServiceParent(root)
        provisioner.startService()
        self.addCleanup(provisioner.stopService)

        self.assertTrue(verifyObject(IHatsService, provisioner.hats))
        self.successResultOf(provisioner.give_hat("juliet@example.org", ROOM, TEACHER))
        self.assertEqual(self.successResultOf(provisioner.hats.get_user_hats("juliet@example.org", ROOM)),
                         {TEACHER: {"active": True, "required": False, "title": "Teacher"}})
        error = self.failureResultOf(provisioner.give_hat("romeo@example.org", ROOM, TEACHER), HatsError)
        self.assertEqual(error.value.condition, "item-not-found")

    def test_rooms_advertise_hats_and_admins_get_the_commands(self):
        root = self.tree()
        self.assertIn("urn:xmpp:hats:0", root.getServiceNamed("muc").handler.room_features)
        [router] = [h for h in root.getServiceNamed("component") if isinstance(h, StanzaRouter)]
        commands = router.service.iq_handlers[(NS_COMMANDS, "command")].__self__
        self.assertTrue({ADD_NODE, REMOVE_NODE} <= set(commands.commands))

    def test_rooms_answer_the_v03_commands_on_the_hats_services_data(self):
        root = self.tree()
        handler = root.getServiceNamed("muc").handler
        room_commands = handler.iqs.room_handlers[("set", NS_COMMANDS, "command")].__self__
        self.assertIs(room_commands.wardrobe, root.getServiceNamed("hats").wardrobe)
        self.assertIn(NS_COMMANDS, handler.room_features)
        self.assertIn(NS_COMMANDS, handler.item_nodes)

    def test_legacy_element_setting_reaches_the_service(self):
        def legacy(root):
            return root.getServiceNamed("muc").handler.context.publisher.hats.legacy
        self.assertFalse(legacy(self.tree()))
        self.assertTrue(legacy(self.tree(muc_hats_legacy_element=True)))

    async def test_http_api_is_mounted_only_when_configured(self):
        root = self.tree(http_muc_hats_authorization_header="Bearer hats")
        self.add_room(root)
        treq = StubTreq(root.getServiceNamed("web").factory.resource)
        url = f"http://localhost/muc_hats?user=juliet@example.org&muc={ROOM}"
        response = await treq.get(url, headers={"Authorization": "Bearer hats"})
        self.assertEqual((response.code, await response.json()), (200, {"hats": {}}))
        response = await treq.get(url, headers={"Authorization": "Bearer kick"})
        self.assertEqual(response.code, 401)

        treq = StubTreq(self.tree().getServiceNamed("web").factory.resource)
        response = await treq.get(url, headers={"Authorization": "Bearer hats"})
        self.assertEqual(response.code, 404)


class ConfigTests(unittest.TestCase):
    BASE = {"jid": "muc.example.org", "component_secret": "x",
            "http_muc_kick_authorization_header": "Bearer kick"}

    def test_defaults_are_off(self):
        config = parse_config(self.BASE, environ={})
        self.assertIsNone(config.http_muc_hats_authorization_header)
        self.assertFalse(config.muc_hats_legacy_element)

    def test_the_header_is_kept_out_of_repr(self):
        config = parse_config({**self.BASE, "http_muc_hats_authorization_header": "Bearer s3cret"}, environ={})
        self.assertEqual(config.http_muc_hats_authorization_header, "Bearer s3cret")
        self.assertNotIn("s3cret", repr(config))

    def test_mistakes_name_the_key(self):
        for key, value in (("http_muc_hats_authorization_header", ""),
                           ("http_muc_hats_authorization_header", " Bearer x"),
                           ("http_muc_hats_authorization_header", "Bearer\nx"),
                           ("http_muc_hats_authorization_header", 5),
                           ("muc_hats_legacy_element", "yes")):
            error = self.assertRaises(ConfigError, parse_config, {**self.BASE, key: value}, environ={})
            self.assertEqual(error.key, key)
