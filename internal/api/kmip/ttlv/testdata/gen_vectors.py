#!/usr/bin/python3
"""Produce the cross-implementation TTLV vectors in this directory.

The *.hex files next to this script were written by PyKMIP's own encoder
(Debian package python3-pykmip 0.10.0), not by the Go package under test, so
the Go tests check the codec against an independent implementation. The Go
tests only read the .hex files; Python is needed only to regenerate them:

    apt-get install -y python3-pykmip
    cd internal/api/kmip/ttlv/testdata && /usr/bin/python3 gen_vectors.py

Every value is fixed (no clocks, no randomness), so a rerun with the same
PyKMIP version reproduces the files byte for byte. Key bytes are dummies.
"""

import binascii

from kmip.core import enums
from kmip.core import objects
from kmip.core import primitives
from kmip.core import utils
from kmip.core.attributes import CryptographicParameters
from kmip.core.factories.attributes import AttributeFactory
from kmip.core.messages import contents
from kmip.core.messages import messages
from kmip.core.messages import payloads
from kmip.pie import factory as pie_factory
from kmip.pie import objects as pie_objects

V12 = enums.KMIPVersion.KMIP_1_2
V14 = enums.KMIPVersion.KMIP_1_4
V20 = enums.KMIPVersion.KMIP_2_0

attrs = AttributeFactory()


def encode(obj, version):
    stream = utils.BytearrayStream()
    obj.write(stream, kmip_version=version)
    return bytes(stream.buffer)


def save(name, data):
    with open(name, "w") as f:
        f.write(binascii.hexlify(data).decode("ascii") + "\n")
    print("%-36s %5d bytes" % (name, len(data)))


def request(version, major, minor, operation, payload, auth=None):
    header = messages.RequestHeader(
        protocol_version=contents.ProtocolVersion(major, minor),
        authentication=auth,
        batch_count=contents.BatchCount(1),
    )
    item = messages.RequestBatchItem(
        operation=contents.Operation(operation),
        request_payload=payload,
    )
    msg = messages.RequestMessage(request_header=header, batch_items=[item])
    return encode(msg, version)


def aes256_template():
    return objects.TemplateAttribute(attributes=[
        attrs.create_attribute(
            enums.AttributeType.CRYPTOGRAPHIC_ALGORITHM,
            enums.CryptographicAlgorithm.AES),
        attrs.create_attribute(
            enums.AttributeType.CRYPTOGRAPHIC_LENGTH, 256),
        attrs.create_attribute(
            enums.AttributeType.CRYPTOGRAPHIC_USAGE_MASK,
            [enums.CryptographicUsageMask.ENCRYPT,
             enums.CryptographicUsageMask.DECRYPT]),
        attrs.create_attribute(enums.AttributeType.NAME, "arca-test-key"),
    ])


def password_auth():
    cred = objects.Credential(
        credential_type=enums.CredentialType.USERNAME_AND_PASSWORD,
        credential_value=objects.UsernamePasswordCredential(
            username="alice", password="not-a-real-secret"),
    )
    return contents.Authentication(credentials=[cred])


# 1. DiscoverVersions (1.2 header) listing the versions a client speaks.
save("discover_versions_1_2.hex", request(
    V12, 1, 2, enums.Operation.DISCOVER_VERSIONS,
    payloads.DiscoverVersionsRequestPayload(protocol_versions=[
        contents.ProtocolVersion(2, 0),
        contents.ProtocolVersion(1, 4),
        contents.ProtocolVersion(1, 3),
        contents.ProtocolVersion(1, 2),
    ])))

# 2. Create (1.2): AES-256 with usage mask and a Name, with a
#    username/password credential in the header.
save("create_aes256_1_2.hex", request(
    V12, 1, 2, enums.Operation.CREATE,
    payloads.CreateRequestPayload(
        object_type=enums.ObjectType.SYMMETRIC_KEY,
        template_attribute=aes256_template()),
    auth=password_auth()))

# 3. Create (2.0): the same key; PyKMIP writes Attributes instead of
#    TemplateAttribute for 2.0.
save("create_aes256_2_0.hex", request(
    V20, 2, 0, enums.Operation.CREATE,
    payloads.CreateRequestPayload(
        object_type=enums.ObjectType.SYMMETRIC_KEY,
        template_attribute=aes256_template())))

# 4. Encrypt (1.4): AES-GCM parameters, IV and additional data.
save("encrypt_aes_gcm_1_4.hex", request(
    V14, 1, 4, enums.Operation.ENCRYPT,
    payloads.EncryptRequestPayload(
        unique_identifier="7f0c1a2b-0000-4000-8000-000000000001",
        cryptographic_parameters=CryptographicParameters(
            block_cipher_mode=enums.BlockCipherMode.GCM,
            cryptographic_algorithm=enums.CryptographicAlgorithm.AES,
            tag_length=16),
        data=b"attack at dawn",
        iv_counter_nonce=bytes(range(12)),
        auth_additional_data=b"header-v1")))

# 5. Register (1.2): a symmetric key carried in KeyBlock/KeyValue.
key = pie_objects.SymmetricKey(
    enums.CryptographicAlgorithm.AES, 128, bytes(range(0x10, 0x20)))
save("register_aes128_1_2.hex", request(
    V12, 1, 2, enums.Operation.REGISTER,
    payloads.RegisterRequestPayload(
        object_type=enums.ObjectType.SYMMETRIC_KEY,
        template_attribute=objects.TemplateAttribute(attributes=[
            attrs.create_attribute(
                enums.AttributeType.CRYPTOGRAPHIC_USAGE_MASK,
                [enums.CryptographicUsageMask.ENCRYPT,
                 enums.CryptographicUsageMask.DECRYPT])]),
        managed_object=pie_factory.ObjectFactory().convert(key))))

# 6. A 1.2 response to a Create, with a DateTime time stamp.
resp_header = messages.ResponseHeader(
    protocol_version=contents.ProtocolVersion(1, 2),
    time_stamp=contents.TimeStamp(1700000000),
    batch_count=contents.BatchCount(1))
resp_item = messages.ResponseBatchItem(
    operation=contents.Operation(enums.Operation.CREATE),
    result_status=contents.ResultStatus(enums.ResultStatus.SUCCESS),
    response_payload=payloads.CreateResponsePayload(
        object_type=enums.ObjectType.SYMMETRIC_KEY,
        unique_identifier="7f0c1a2b-0000-4000-8000-000000000001"))
save("create_response_1_2.hex", encode(
    messages.ResponseMessage(response_header=resp_header,
                             batch_items=[resp_item]), V12))

# 7. Single primitives PyKMIP encodes itself, one "name hex" per line:
#    BigIntegers around the sign and 8-byte boundaries, and the other
#    scalar types, all with tag 0x420020 like the spec examples.
tag = enums.Tags.COMPROMISE_DATE
prims = [
    ("bigint_0", primitives.BigInteger(0, tag)),
    ("bigint_1", primitives.BigInteger(1, tag)),
    ("bigint_minus1", primitives.BigInteger(-1, tag)),
    ("bigint_2p63", primitives.BigInteger(1 << 63, tag)),
    ("bigint_minus2p63", primitives.BigInteger(-(1 << 63), tag)),
    ("bigint_minus2p63minus1", primitives.BigInteger(-(1 << 63) - 1, tag)),
    ("bigint_2p64minus1", primitives.BigInteger((1 << 64) - 1, tag)),
    ("bigint_spec", primitives.BigInteger(1234567890000000000000000000, tag)),
    ("long_minus2", primitives.LongInteger(-2, tag)),
    ("int_minus1", primitives.Integer(-1, tag)),
    ("interval_10d", primitives.Interval(864000, tag)),
    ("datetime_spec", primitives.DateTime(1205495800, tag)),
    ("bool_false", primitives.Boolean(False, tag)),
    ("text_empty", primitives.TextString("", tag)),
    # PyKMIP 0.10 writes text one character per byte, so it cannot encode
    # non-ASCII text; UTF-8 is covered by the Go tests alone.
    ("text_8", primitives.TextString("abcdefgh", tag)),
    ("bytes_8", primitives.ByteString(bytes(range(8)), tag)),
]
with open("primitives.txt", "w") as f:
    for name, p in prims:
        f.write("%s %s\n" % (name, binascii.hexlify(encode(p, V12)).decode()))
print("primitives.txt                       %5d entries" % len(prims))
