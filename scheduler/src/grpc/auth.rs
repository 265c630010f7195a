//! Who may call what: the ONE place requests are authorized.
//!
//! With TLS on, [`AuthLayer`] wraps every service. It reads the client
//! certificate the TLS handshake verified, takes the caller's [`Identity`]
//! from its SPIFFE URI SAN, checks the kind against the method ([`access`]),
//! and hands the identity to the handlers as a request extension. Handlers
//! then scope data by it ([`tenant_for`], [`may_see`]).
//!
//! | service | who |
//! |---|---|
//! | `riskgrid.v1.JobService` | tenants (their own jobs), admins (any job) |
//! | `riskgrid.v1.WorkerService` | workers |
//! | `riskgrid.v1.CapacityService` | admins; `PlanJob` (changes nothing) also tenants |
//! | `grpc.health.v1.Health` | anyone who completed the TLS handshake |
//! | reflection | any identity |
//! | anything else | admins |
//!
//! Without TLS (the loopback development mode, and the embedded `riskgrid
//! run`) the layer lets everything through and attaches no identity: the
//! tenant is the one the request declares, as before issue #5. The scheduler
//! refuses to listen off loopback in that mode unless explicitly forced.

use super::convert;
use crate::ids::TenantId;
use riskgrid_security::{Identity, Kind};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tonic::body::Body;
use tonic::codegen::http;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tonic::{Request, Status};

/// Who may call a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Health checks: any peer that completed the TLS handshake.
    Public,
    /// Any verified identity.
    AnyIdentity,
    /// Identities of these kinds only.
    Kinds(&'static [Kind]),
}

/// The rule for a gRPC path (`/package.Service/Method`).
pub fn access(path: &str) -> Access {
    let (service, method) = path.trim_start_matches('/').split_once('/').unwrap_or((path, ""));
    match service {
        "riskgrid.v1.JobService" => Access::Kinds(&[Kind::Tenant, Kind::Admin]),
        "riskgrid.v1.WorkerService" => Access::Kinds(&[Kind::Worker]),
        "riskgrid.v1.CapacityService" if method == "PlanJob" => Access::Kinds(&[Kind::Tenant, Kind::Admin]),
        "grpc.health.v1.Health" => Access::Public,
        s if s.starts_with("grpc.reflection.") => Access::AnyIdentity,
        _ => Access::Kinds(&[Kind::Admin]),
    }
}

/// The decision for a call on `path` by `peer` (the identity from the
/// client certificate, `Err` when a certificate was sent but names no
/// valid identity, `Ok(None)` when none was sent).
pub fn decide(path: &str, peer: Result<Option<&Identity>, &str>) -> Result<(), Status> {
    let rule = access(path);
    if rule == Access::Public {
        return Ok(());
    }
    let id = match peer {
        Ok(Some(id)) => id,
        Ok(None) => return Err(Status::unauthenticated("a client certificate is required (mTLS)")),
        Err(why) => return Err(Status::unauthenticated(format!("client certificate: {why}"))),
    };
    match rule {
        Access::Public | Access::AnyIdentity => Ok(()),
        Access::Kinds(kinds) if kinds.contains(&id.kind()) => Ok(()),
        Access::Kinds(kinds) => {
            let allowed: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            Err(Status::permission_denied(format!(
                "{id} may not call {path}: only {} identities may",
                allowed.join(" or ")
            )))
        }
    }
}

/// The verified identity of a request's caller; `None` without TLS.
pub fn caller<T>(request: &Request<T>) -> Option<&Identity> {
    request.extensions().get::<Identity>()
}

/// The tenant a JobService request acts for. A tenant identity acts for
/// itself (declaring another tenant is PERMISSION_DENIED); an admin, or any
/// caller without TLS, acts for the declared tenant (empty = `default`).
pub fn tenant_for(caller: Option<&Identity>, declared: &str) -> Result<TenantId, Status> {
    match caller {
        None | Some(Identity::Admin(_)) => convert::tenant(declared),
        Some(Identity::Tenant(name)) if declared.is_empty() || declared == name => Ok(TenantId(name.clone())),
        Some(Identity::Tenant(name)) => Err(Status::permission_denied(format!(
            "tenant: {declared:?} is not the tenant of this certificate ({name})"
        ))),
        Some(other) => Err(Status::permission_denied(format!("{other} is not a tenant"))),
    }
}

/// Whether `caller` may see a job of `owner`. Jobs a caller may not see are
/// reported exactly like jobs that do not exist.
pub fn may_see(caller: Option<&Identity>, owner: &TenantId) -> bool {
    match caller {
        None | Some(Identity::Admin(_)) => true,
        Some(Identity::Tenant(name)) => *name == owner.0,
        Some(_) => false,
    }
}

/// NOT_FOUND, exactly as for an unknown job, unless `caller` may see job `id`.
pub fn check_visible(grid: &super::grid::Grid, caller: Option<&Identity>, id: crate::ids::JobId) -> Result<(), Status> {
    if caller.is_none() {
        return Ok(());
    }
    let g = grid.lock();
    match g.sched.job(id) {
        Some(job) if may_see(caller, job.tenant()) => Ok(()),
        _ => Err(super::status::not_found_job(id)),
    }
}

/// The identity in the verified client certificate of a request, if any.
fn peer_identity<B>(request: &http::Request<B>) -> Result<Option<Identity>, String> {
    let certs = request.extensions().get::<TlsConnectInfo<TcpConnectInfo>>().and_then(|i| i.peer_certs());
    match certs.as_deref().and_then(|c| c.first()) {
        None => Ok(None),
        Some(leaf) => Identity::from_cert_der(leaf).map(Some).map_err(|e| e.to_string()),
    }
}

/// The tower layer applying [`decide`] to every request (when `enabled`).
#[derive(Debug, Clone, Copy)]
pub struct AuthLayer {
    enabled: bool,
}

impl AuthLayer {
    pub fn new(enabled: bool) -> Self {
        AuthLayer { enabled }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = Authorize<S>;

    fn layer(&self, inner: S) -> Authorize<S> {
        Authorize { inner, enabled: self.enabled }
    }
}

/// See [`AuthLayer`].
#[derive(Debug, Clone)]
pub struct Authorize<S> {
    inner: S,
    enabled: bool,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S> tower::Service<http::Request<Body>> for Authorize<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        // The clone is the one that was not polled ready; keep the ready one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        if !self.enabled {
            return Box::pin(inner.call(request));
        }
        let peer = peer_identity(&request);
        let path = request.uri().path().to_owned();
        match decide(&path, peer.as_ref().map(Option::as_ref).map_err(String::as_str)) {
            Ok(()) => {
                if let Ok(Some(id)) = peer {
                    request.extensions_mut().insert(id);
                }
                Box::pin(inner.call(request))
            }
            Err(status) => {
                tracing::warn!(path = %path, code = ?status.code(), "refused: {}", status.message());
                Box::pin(std::future::ready(Ok(status.into_http())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    fn t(name: &str) -> Identity {
        Identity::Tenant(name.into())
    }

    #[test]
    fn each_kind_reaches_only_its_services() {
        let (tenant, worker, admin) = (t("a"), Identity::Worker("w".into()), Identity::Admin("ops".into()));
        let submit = "/riskgrid.v1.JobService/SubmitJob";
        let lease = "/riskgrid.v1.WorkerService/LeaseTasks";
        let policy = "/riskgrid.v1.CapacityService/SetPolicy";
        let plan = "/riskgrid.v1.CapacityService/PlanJob";
        let code = |path, id: &Identity| decide(path, Ok(Some(id))).err().map(|s| s.code());
        assert_eq!(code(submit, &tenant), None);
        assert_eq!(code(submit, &admin), None);
        assert_eq!(code(submit, &worker), Some(Code::PermissionDenied));
        assert_eq!(code(lease, &worker), None);
        assert_eq!(code(lease, &tenant), Some(Code::PermissionDenied));
        assert_eq!(code(lease, &admin), Some(Code::PermissionDenied));
        assert_eq!(code(policy, &admin), None);
        assert_eq!(code(policy, &tenant), Some(Code::PermissionDenied));
        assert_eq!(code(plan, &tenant), None);
        assert_eq!(code("/riskgrid.v2.Unknown/X", &tenant), Some(Code::PermissionDenied));
        assert_eq!(
            code("/riskgrid.v1.JobService/SubmitJob", &Identity::Scheduler("s".into())),
            Some(Code::PermissionDenied)
        );
    }

    #[test]
    fn no_certificate_is_unauthenticated_except_for_health() {
        let submit = "/riskgrid.v1.JobService/SubmitJob";
        assert_eq!(decide(submit, Ok(None)).err().map(|s| s.code()), Some(Code::Unauthenticated));
        assert_eq!(decide(submit, Err("no spiffe id")).err().map(|s| s.code()), Some(Code::Unauthenticated));
        assert!(decide("/grpc.health.v1.Health/Check", Ok(None)).is_ok());
        let reflect = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
        assert_eq!(decide(reflect, Ok(None)).err().map(|s| s.code()), Some(Code::Unauthenticated));
        assert!(decide(reflect, Ok(Some(&t("a")))).is_ok());
    }

    #[test]
    fn tenants_act_for_themselves_and_see_only_their_jobs() {
        let a = t("a");
        assert_eq!(tenant_for(Some(&a), "").ok(), Some(TenantId::from("a")));
        assert_eq!(tenant_for(Some(&a), "a").ok(), Some(TenantId::from("a")));
        assert_eq!(tenant_for(Some(&a), "b").map_err(|s| s.code()), Err(Code::PermissionDenied));
        assert_eq!(tenant_for(None, "b").ok(), Some(TenantId::from("b")));
        assert_eq!(tenant_for(Some(&Identity::Admin("x".into())), "b").ok(), Some(TenantId::from("b")));
        assert_eq!(
            tenant_for(Some(&Identity::Worker("w".into())), "").map_err(|s| s.code()),
            Err(Code::PermissionDenied)
        );
        assert!(may_see(Some(&a), &TenantId::from("a")));
        assert!(!may_see(Some(&a), &TenantId::from("b")));
        assert!(may_see(None, &TenantId::from("b")));
        assert!(!may_see(Some(&Identity::Worker("w".into())), &TenantId::from("b")));
    }
}
