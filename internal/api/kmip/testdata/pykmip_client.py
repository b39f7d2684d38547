"""Drive an Arca KMIP server with PyKMIP's ProxyKmipClient.

Usage: pykmip_client.py HOST PORT CERT KEY CA CONFIG VERSION

VERSION is 1.2, 1.3, 1.4 or 2.0; PyKMIP puts it in every request. Each
step prints "ok <step>" or "FAIL <step>: <error>"; the last line is
"PASS" when every step succeeded. The exit status is 0 only then.
"""

import os
import sys
import traceback

from kmip.core import enums
from kmip.pie import objects
from kmip.pie.client import ProxyKmipClient
from kmip.pie.exceptions import KmipOperationFailure

VERSIONS = {
    "1.2": enums.KMIPVersion.KMIP_1_2,
    "1.3": enums.KMIPVersion.KMIP_1_3,
    "1.4": enums.KMIPVersion.KMIP_1_4,
    "2.0": enums.KMIPVersion.KMIP_2_0,
}


def main():
    host, port, cert, key, ca, config, ver = sys.argv[1:8]
    failures = []

    def step(name, fn):
        try:
            detail = fn()
            print("ok", name, "" if detail is None else detail, flush=True)
        except Exception as e:  # report every failure, keep going
            failures.append(name)
            print("FAIL %s: %r" % (name, e), flush=True)
            traceback.print_exc(file=sys.stderr)

    def expect(cond, what):
        if not cond:
            raise AssertionError(what)

    client = ProxyKmipClient(hostname=host, port=int(port), cert=cert, key=key, ca=ca,
                             config_file=config, kmip_version=VERSIONS[ver])
    with client as c:
        name = "pykmip-" + ver.replace(".", "-")
        state = {}
        mask = [enums.CryptographicUsageMask.ENCRYPT, enums.CryptographicUsageMask.DECRYPT]

        def create():
            state["uid"] = c.create(enums.CryptographicAlgorithm.AES, 256, name=name,
                                    cryptographic_usage_mask=mask)
            return state["uid"]
        step("create", create)
        uid = state.get("uid")

        step("activate", lambda: c.activate(uid))

        def locate():
            attr = c.attribute_factory.create_attribute(enums.AttributeType.NAME, name)
            found = c.locate(attributes=[attr])
            expect(found == [uid], "locate by name found %r" % (found,))
        step("locate", locate)

        def get_attributes():
            got_uid, attrs = c.get_attributes(
                uid, ["State", "Cryptographic Algorithm", "Cryptographic Length", "Name"])
            expect(got_uid == uid, "uid %r" % got_uid)
            values = {a.attribute_name.value: a.attribute_value for a in attrs}
            expect(values["State"].value == enums.State.ACTIVE, "state %r" % values["State"])
            expect(values["Cryptographic Algorithm"].value == enums.CryptographicAlgorithm.AES, "algorithm")
            expect(values["Cryptographic Length"].value == 256, "length")
            expect(values["Name"].name_value.value == name, "name")
            return sorted(values)
        step("get_attributes", get_attributes)

        def get_all_attributes():
            _, attrs = c.get_attributes(uid)
            names = sorted(a.attribute_name.value for a in attrs)
            expect("Unique Identifier" in names and "Object Type" in names, "attributes %r" % names)
            return names
        step("get_all_attributes", get_all_attributes)

        def get_attribute_list():
            names = c.get_attribute_list(uid)
            expect("State" in names, "attribute list %r" % names)
        step("get_attribute_list", get_attribute_list)

        def get():
            k = c.get(uid)
            expect(len(k.value) == 32, "key of %d bytes" % len(k.value))
            expect(k.cryptographic_algorithm == enums.CryptographicAlgorithm.AES, "algorithm")
            return len(k.value)
        step("get", get)

        def encrypt_decrypt():
            params = {
                "cryptographic_algorithm": enums.CryptographicAlgorithm.AES,
                "block_cipher_mode": enums.BlockCipherMode.GCM,
            }
            data = b"PyKMIP says hello"
            ct, iv = c.encrypt(data, uid=uid, cryptographic_parameters=params)
            expect(ct != data and len(ct) > len(data), "ciphertext")
            pt = c.decrypt(ct, uid=uid, cryptographic_parameters=params, iv_counter_nonce=iv)
            expect(pt == data, "decrypted %r" % pt)
            pt = c.decrypt(ct, uid=uid)
            expect(pt == data, "decrypted without parameters %r" % pt)
        step("encrypt_decrypt", encrypt_decrypt)

        def register():
            material = os.urandom(32)
            sk = objects.SymmetricKey(enums.CryptographicAlgorithm.AES, 256, material,
                                      masks=mask, name=name + "-registered")
            ruid = c.register(sk)
            c.activate(ruid)
            got = c.get(ruid)
            expect(got.value == material, "registered material differs")
            return ruid
        step("register", register)

        def revoke():
            c.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, uid)
            _, attrs = c.get_attributes(uid, ["State"])
            expect(attrs[0].attribute_value.value == enums.State.DEACTIVATED, "state after revoke")
        step("revoke", revoke)

        step("destroy", lambda: c.destroy(uid))

        def unknown():
            try:
                c.get("00000000-0000-4000-8000-000000000000")
            except KmipOperationFailure as e:
                expect(e.reason == enums.ResultReason.ITEM_NOT_FOUND, "reason %r" % e.reason)
                return e.reason
            raise AssertionError("get of an unknown id succeeded")
        step("unknown_id", unknown)

    if failures:
        print("FAILED", " ".join(failures))
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
