"""The official Databricks SDK for Python against the ipsync emulator.

Run by `tests/it/emulator_sdk.rs`, which starts the emulator and passes it in through
these environment variables:

- IPSYNC_EMULATOR_URL: the emulator's base URL (loopback only)
- IPSYNC_EMULATOR_TOKEN: a personal access token the emulator accepts
- IPSYNC_EMULATOR_CLIENT_ID, IPSYNC_EMULATOR_CLIENT_SECRET: the OAuth client it accepts
- IPSYNC_EMULATOR_ACCOUNT_ID: the account id for the account client

The workspace client authenticates with the token. The account client uses OAuth M2M. It
finds the token endpoint through `discovery_url`, because the SDK reads it from the host's
`/.well-known/databricks-config`, and the emulator responds there as a workspace host.
"""

import json
import os
import unittest
import urllib.request

from databricks.sdk import AccountClient, WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.errors import (
    InvalidParameterValue,
    InvalidState,
    NotFound,
    ResourceAlreadyExists,
)
from databricks.sdk.service.settings import ListType

URL = os.environ["IPSYNC_EMULATOR_URL"].rstrip("/")
TOKEN = os.environ["IPSYNC_EMULATOR_TOKEN"]
CLIENT_ID = os.environ["IPSYNC_EMULATOR_CLIENT_ID"]
CLIENT_SECRET = os.environ["IPSYNC_EMULATOR_CLIENT_SECRET"]
ACCOUNT_ID = os.environ["IPSYNC_EMULATOR_ACCOUNT_ID"]


def workspace_client():
    return WorkspaceClient(host=URL, token=TOKEN)


def account_client():
    # AccountClient has no `discovery_url` argument, but Config does.
    config = Config(
        host=URL,
        account_id=ACCOUNT_ID,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        discovery_url=f"{URL}/oidc/accounts/{ACCOUNT_ID}/.well-known/oauth-authorization-server",
    )
    return AccountClient(config=config)


def inject_fault(fault):
    request = urllib.request.Request(
        f"{URL}/_emulator/faults",
        data=json.dumps(fault).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 204


def exercise(test, api):
    """Lists, creates, reads, updates, replaces and deletes lists through `api`."""
    # The emulator takes the caller to be 203.0.113.7, inside 203.0.113.0/24.
    created = api.create(
        label="sdk-allow",
        list_type=ListType.ALLOW,
        ip_addresses=["203.0.113.0/24", "198.51.100.7"],
    ).ip_access_list
    test.assertEqual(created.label, "sdk-allow")
    test.assertEqual(created.list_type, ListType.ALLOW)
    test.assertEqual(created.ip_addresses, ["203.0.113.0/24", "198.51.100.7"])
    test.assertEqual(created.address_count, 2)
    test.assertTrue(created.enabled)
    test.assertGreater(created.created_at, 1_600_000_000_000)

    blocked = api.create(label="sdk-block", list_type=ListType.BLOCK).ip_access_list
    test.assertIsNone(blocked.ip_addresses)
    test.assertEqual(blocked.address_count, 0)

    listed = {info.list_id: info for info in api.list()}
    test.assertEqual(set(listed), {created.list_id, blocked.list_id})
    test.assertEqual(listed[created.list_id].ip_addresses, created.ip_addresses)

    test.assertEqual(api.get(ip_access_list_id=created.list_id).ip_access_list, created)

    api.update(ip_access_list_id=blocked.list_id, enabled=False, ip_addresses=["192.0.2.1"])
    updated = api.get(ip_access_list_id=blocked.list_id).ip_access_list
    test.assertFalse(updated.enabled)
    test.assertEqual(updated.ip_addresses, ["192.0.2.1"])
    test.assertEqual(updated.label, "sdk-block")

    api.replace(
        ip_access_list_id=created.list_id,
        label="sdk-renamed",
        list_type=ListType.ALLOW,
        enabled=True,
        ip_addresses=["203.0.113.0/25"],
    )
    replaced = api.get(ip_access_list_id=created.list_id).ip_access_list
    test.assertEqual(replaced.label, "sdk-renamed")
    test.assertEqual(replaced.ip_addresses, ["203.0.113.0/25"])
    test.assertEqual(replaced.address_count, 1)

    with test.assertRaises(InvalidParameterValue):
        api.create(label="v6", list_type=ListType.ALLOW, ip_addresses=["2001:db8::/32"])
    with test.assertRaises(ResourceAlreadyExists):
        api.create(label="sdk-block", list_type=ListType.BLOCK)
    # 203.0.113.128/25 leaves out 203.0.113.7, so the caller would lock itself out.
    with test.assertRaises(InvalidState):
        api.update(ip_access_list_id=created.list_id, ip_addresses=["203.0.113.128/25"])
    with test.assertRaises(NotFound):
        api.get(ip_access_list_id="no-such-list")

    # The SDK waits for Retry-After on 429, then retries.
    inject_fault({"kind": "too_many_requests", "retry_after_seconds": 1, "count": 1})
    api.delete(ip_access_list_id=blocked.list_id)
    api.delete(ip_access_list_id=created.list_id)
    test.assertEqual(list(api.list()), [])


class WorkspaceIpAccessLists(unittest.TestCase):
    def test_round_trip_with_token(self):
        client = workspace_client()
        self.assertEqual(client.config.auth_type, "pat")
        exercise(self, client.ip_access_lists)


class AccountIpAccessLists(unittest.TestCase):
    def test_round_trip_with_oauth(self):
        client = account_client()
        self.assertEqual(client.config.auth_type, "oauth-m2m")
        exercise(self, client.ip_access_lists)


if __name__ == "__main__":
    unittest.main(verbosity=2)
