//! A throwaway public-key infrastructure for the TLS tests, made with the `openssl` command
//! (scripts/deps.sh installs it): a CA, a server certificate for `localhost` and `127.0.0.1`,
//! a client certificate, all signed by that CA, and a second, unrelated CA. P-256 keys, valid
//! for a day, in a temporary directory removed with the value.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// The files of a throwaway CA and the certificates it signed.
#[derive(Debug)]
pub struct TestPki {
    dir: tempfile::TempDir,
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

impl TestPki {
    /// Makes the CA, the server and client certificates and the other CA.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path();
        for ca in ["ca", "other-ca"] {
            openssl(
                path,
                &[
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                    "-nodes",
                    "-days",
                    "1",
                    "-subj",
                    &format!("/CN=throwaway {ca}"),
                    "-keyout",
                    &format!("{ca}.key"),
                    "-out",
                    &format!("{ca}.pem"),
                ],
            );
        }
        for (leaf, usage) in [("server", "serverAuth"), ("client", "clientAuth")] {
            openssl(
                path,
                &[
                    "req",
                    "-new",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                    "-nodes",
                    "-subj",
                    &format!("/CN=throwaway {leaf}"),
                    "-keyout",
                    &format!("{leaf}.key"),
                    "-out",
                    &format!("{leaf}.csr"),
                ],
            );
            let extensions = format!("{leaf}.ext");
            std::fs::write(
                path.join(&extensions),
                format!(
                    "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
                     extendedKeyUsage={usage}\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n"
                ),
            )
            .expect("the extensions file is written");
            openssl(
                path,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &format!("{leaf}.csr"),
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-set_serial",
                    if leaf == "server" { "2" } else { "3" },
                    "-days",
                    "1",
                    "-extfile",
                    &extensions,
                    "-out",
                    &format!("{leaf}.pem"),
                ],
            );
        }
        Self { dir }
    }

    /// The directory of the files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The CA's certificate.
    pub fn ca_cert(&self) -> PathBuf {
        self.dir().join("ca.pem")
    }

    /// The certificate of a CA that signed nothing here.
    pub fn other_ca_cert(&self) -> PathBuf {
        self.dir().join("other-ca.pem")
    }

    /// The server's certificate (`localhost`, `127.0.0.1`).
    pub fn server_cert(&self) -> PathBuf {
        self.dir().join("server.pem")
    }

    /// The server's private key.
    pub fn server_key(&self) -> PathBuf {
        self.dir().join("server.key")
    }

    /// The client's certificate.
    pub fn client_cert(&self) -> PathBuf {
        self.dir().join("client.pem")
    }

    /// The client's private key.
    pub fn client_key(&self) -> PathBuf {
        self.dir().join("client.key")
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs (scripts/deps.sh installs it)");
    assert!(
        output.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}
