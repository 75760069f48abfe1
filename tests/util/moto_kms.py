"""moto's KMS (and IAM) server for signet's end-to-end tests, on a free loopback port.

Run by tests/util/key_services.rs (`MotoKms::start`). Prints one JSON line on stdout once the
server is ready, then serves until stdin closes (the test dropped its handle) or, with
MOTO_KMS_SERVE_UNTIL_KILLED set (benches/key-backends.sh), until the process is killed.

Two things differ from a bare `moto_server`, both to make moto behave as AWS does:

* Authentication is on (INITIAL_NO_AUTH_ACTION_COUNT): every request after the setup below
  must carry a valid SigV4 signature of an IAM user's access key, which moto recomputes with
  botocore. signet's own SigV4 code is thereby checked by AWS's reference implementation, and a
  wrong secret or a user without permission is refused as AWS refuses it.
* Sign with MessageType=DIGEST signs the digest as given. moto 5.2 ignores MessageType and
  hashes the message again (its docs say DIGEST "is not yet implemented"), which no real KMS
  does; Cosign and signet always send DIGEST. The patch below signs the given digest with the
  key's algorithm (cryptography's Prehashed), refusing a digest of the wrong length as AWS does.
  See docs/compatibility.md.

Setup, all through moto's own HTTP API with boto3:
  1. IAM user `signer` with an inline policy allowing kms:* and an access key;
  2. IAM user `stranger` with an access key and no policy (every KMS call is denied);
  3. as `signer`: an RSA_2048 signing key under alias/signet-rsa and an ECC_NIST_P384 one
     under alias/signet-p384.
"""

import json
import logging
import os
import sys
import threading

# The five unauthenticated IAM calls of step 1 and 2; everything after is authenticated.
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "5"
os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "false")

import boto3  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils  # noqa: E402
from moto.kms import models as kms_models  # noqa: E402
from moto.kms import responses as kms_responses  # noqa: E402
from moto.kms.exceptions import ValidationException  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

HASHES = {
    "ECDSA_SHA_256": hashes.SHA256,
    "ECDSA_SHA_384": hashes.SHA384,
    "ECDSA_SHA_512": hashes.SHA512,
    "RSASSA_PKCS1_V1_5_SHA_256": hashes.SHA256,
    "RSASSA_PKCS1_V1_5_SHA_384": hashes.SHA384,
    "RSASSA_PKCS1_V1_5_SHA_512": hashes.SHA512,
}

_original_sign_response = kms_responses.KmsResponse.sign


def _sign_response(self):
    """KmsResponse.sign, honouring MessageType=DIGEST as AWS KMS does."""
    if self._get_param("MessageType") != "DIGEST":
        return _original_sign_response(self)
    import base64

    key_id = self._get_param("KeyId")
    algorithm = self._get_param("SigningAlgorithm")
    # moto has already decoded the base64 blob.
    digest = self._get_param("Message")
    if isinstance(digest, str):
        digest = digest.encode("latin-1")
    key = self.kms_backend.describe_key(key_id)
    if algorithm not in key.signing_algorithms or algorithm not in HASHES:
        raise ValidationException(f"SigningAlgorithm {algorithm} is not valid for this key")
    hash_algorithm = HASHES[algorithm]()
    if len(digest) != hash_algorithm.digest_size:
        raise ValidationException(f"Digest is invalid length for algorithm {algorithm}.")
    private = key.private_key.private_key
    prehashed = utils.Prehashed(hash_algorithm)
    if algorithm.startswith("ECDSA"):
        signature = private.sign(digest, ec.ECDSA(prehashed))
    else:
        signature = private.sign(digest, padding.PKCS1v15(), prehashed)
    return json.dumps(
        {
            "KeyId": key.arn,
            "Signature": base64.b64encode(signature).decode(),
            "SigningAlgorithm": algorithm,
        }
    )


kms_responses.KmsResponse.sign = _sign_response
assert kms_models  # imported so the backend is registered before the server starts


def main() -> None:
    # No access log on the test's stderr.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    region = "us-east-1"

    def client(service, access_key="unauthenticated", secret="unauthenticated"):
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=endpoint,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret,
        )

    iam = client("iam")
    iam.create_user(UserName="signer")
    iam.put_user_policy(
        UserName="signer",
        PolicyName="kms",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
            }
        ),
    )
    signer = iam.create_access_key(UserName="signer")["AccessKey"]
    iam.create_user(UserName="stranger")
    stranger = iam.create_access_key(UserName="stranger")["AccessKey"]

    kms = client("kms", signer["AccessKeyId"], signer["SecretAccessKey"])
    rsa = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/signet-rsa", TargetKeyId=rsa)
    p384 = kms.create_key(KeySpec="ECC_NIST_P384", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/signet-p384", TargetKeyId=p384)

    print(
        json.dumps(
            {
                "endpoint": endpoint,
                "region": region,
                "access_key_id": signer["AccessKeyId"],
                "secret_access_key": signer["SecretAccessKey"],
                "stranger_access_key_id": stranger["AccessKeyId"],
                "stranger_secret_access_key": stranger["SecretAccessKey"],
                "rsa_key_id": rsa,
            }
        ),
        flush=True,
    )
    if os.environ.get("MOTO_KMS_SERVE_UNTIL_KILLED"):
        threading.Event().wait()  # benches/key-backends.sh kills it
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
