//! Fake servers beyond plain HTTP: an HTTPS site with a certificate made here (rcgen), a DNS
//! server answering from a table, and a mail server that can upgrade to TLS (`smtp`). All on
//! 127.0.0.1 only.

pub mod smtp;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{RData, Record, RecordType};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// An HTTPS site; `ca_pem` is the CA that signed its certificate (None when self-signed).
pub struct TlsSite {
    pub port: u16,
    pub ca_pem: Option<String>,
}

impl TlsSite {
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}/", self.port)
    }
}

/// Valid from 30 days ago until `days` days from now.
fn set_validity(params: &mut CertificateParams, days: i64) {
    use chrono::Datelike;
    let day = |offset: i64| {
        let date = (chrono::Utc::now() + chrono::Duration::days(offset)).date_naive();
        rcgen::date_time_ymd(date.year(), date.month() as u8, date.day() as u8)
    };
    params.not_before = day(-30);
    params.not_after = day(days);
}

/// A server's TLS settings with a certificate made here, and the CA that signed it.
pub struct TestCert {
    pub config: Arc<ServerConfig>,
    /// The CA (PEM) to trust it by, for `tls_ca_file`; `None` when self-signed.
    pub ca_pem: Option<String>,
}

/// A certificate for `names` that expires in `days` days (negative: expired), signed by a
/// fresh CA when `with_ca`, else self-signed.
pub fn certificate(names: &[&str], days: i64, with_ca: bool) -> TestCert {
    let leaf_key = KeyPair::generate().expect("key");
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).expect("params");
    set_validity(&mut params, days);
    let (cert, ca_pem) = if with_ca {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        set_validity(&mut ca_params, 365);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("ca key"))
            .expect("ca");
        (
            params.signed_by(&leaf_key, &ca).expect("leaf"),
            Some(ca.pem()),
        )
    } else {
        (params.self_signed(&leaf_key).expect("self-signed"), None)
    };
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .expect("tls config");
    TestCert {
        config: Arc::new(config),
        ca_pem,
    }
}

/// Starts an HTTPS site for 127.0.0.1 whose certificate expires in `days` days (negative:
/// expired), signed by a fresh CA when `with_ca`, else self-signed.
pub async fn tls_site(days: i64, with_ca: bool) -> TlsSite {
    let TestCert { config, ca_pem } = certificate(&["127.0.0.1", "localhost"], days, with_ca);
    let acceptor = TlsAcceptor::from(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut buf = [0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let body = "secure ok";
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(reply.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    TlsSite { port, ca_pem }
}

/// A DNS server on 127.0.0.1 answering A queries from `records`; unknown names get NXDOMAIN.
pub async fn dns_server(records: &[(&str, Ipv4Addr)]) -> SocketAddr {
    let mut table: HashMap<String, Vec<Ipv4Addr>> = HashMap::new();
    for (name, ip) in records {
        table
            .entry(format!("{}.", name.trim_end_matches('.')))
            .or_default()
            .push(*ip);
    }
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind dns");
    let addr = socket.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((n, peer)) = socket.recv_from(&mut buf).await {
            let Ok(request) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut response = Message::response(request.metadata.id, request.metadata.op_code);
            response.metadata.recursion_desired = request.metadata.recursion_desired;
            response.metadata.recursion_available = true;
            response.metadata.authoritative = true;
            for query in &request.queries {
                response.add_query(query.clone());
                match table.get(&query.name().to_ascii()) {
                    Some(ips) if query.query_type() == RecordType::A => {
                        for ip in ips {
                            response.add_answer(Record::from_rdata(
                                query.name().clone(),
                                60,
                                RData::A(A(*ip)),
                            ));
                        }
                    }
                    Some(_) => {}
                    None => response.metadata.response_code = ResponseCode::NXDomain,
                }
            }
            if let Ok(bytes) = response.to_vec() {
                let _ = socket.send_to(&bytes, peer).await;
            }
        }
    });
    addr
}
