//! The `minhu.v1.Handling` gRPC service: each method wraps its request as a
//! `minhu.v1.CaseUpdate` (the body AMQP departments send) and takes the one shared path,
//! [`Updates::apply`]. Errors become statuses in `crate::intake::error`.
use std::pin::Pin;

use tokio::sync::{broadcast, mpsc};
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::path::Updates;
use crate::pb;
use crate::pb::case_update::Update;
use crate::pb::handling_server::Handling;
use crate::protect::auth;
use crate::store::Via;

/// The stream `WatchCases` answers with.
pub type ChangeStream = Pin<Box<dyn Stream<Item = Result<pb::CaseChange, Status>> + Send>>;

/// A stream fed by a task: the task ends when the client goes away (its sends fail).
fn async_stream_of<F, Fut>(feed: F) -> ChangeStream
where
    F: FnOnce(mpsc::Sender<Result<pb::CaseChange, Status>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(feed(tx));
    Box::pin(ReceiverStream::new(rx))
}

/// The tonic service.
pub struct HandlingService {
    updates: Updates,
}

impl HandlingService {
    pub fn new(updates: Updates) -> Self {
        Self { updates }
    }

    async fn apply<T>(
        &self,
        request: Request<T>,
        wrap: impl FnOnce(T) -> Update,
    ) -> Result<Response<pb::UpdateOutcome>, Status> {
        let caller = auth::grpc_caller(&request);
        let update = pb::CaseUpdate {
            update: Some(wrap(request.into_inner())),
        };
        let outcome = self.updates.apply(update, Via::Grpc, caller).await?;
        Ok(Response::new(outcome))
    }
}

#[tonic::async_trait]
impl Handling for HandlingService {
    async fn sign_for(
        &self,
        request: Request<pb::SignForRequest>,
    ) -> Result<Response<pb::UpdateOutcome>, Status> {
        self.apply(request, Update::SignFor).await
    }

    async fn report_progress(
        &self,
        request: Request<pb::ReportProgressRequest>,
    ) -> Result<Response<pb::UpdateOutcome>, Status> {
        self.apply(request, Update::ReportProgress).await
    }

    async fn r#return(
        &self,
        request: Request<pb::ReturnRequest>,
    ) -> Result<Response<pb::UpdateOutcome>, Status> {
        self.apply(request, Update::Return).await
    }

    async fn request_extension(
        &self,
        request: Request<pb::RequestExtensionRequest>,
    ) -> Result<Response<pb::UpdateOutcome>, Status> {
        self.apply(request, Update::RequestExtension).await
    }

    async fn decide_extension(
        &self,
        request: Request<pb::DecideExtensionRequest>,
    ) -> Result<Response<pb::UpdateOutcome>, Status> {
        self.apply(request, Update::DecideExtension).await
    }

    async fn complete(
        &self,
        request: Request<pb::CompleteRequest>,
    ) -> Result<Response<pb::UpdateOutcome>, Status> {
        self.apply(request, Update::Complete).await
    }

    async fn reassign(
        &self,
        request: Request<pb::ReassignRequest>,
    ) -> Result<Response<pb::UpdateOutcome>, Status> {
        self.apply(request, Update::Reassign).await
    }

    type WatchCasesStream = ChangeStream;

    async fn watch_cases(
        &self,
        request: Request<pb::WatchCasesRequest>,
    ) -> Result<Response<Self::WatchCasesStream>, Status> {
        let caller = auth::grpc_caller(&request);
        let department_id = request.into_inner().department_id;
        let mut rx = self.updates.watch(&department_id, caller.as_deref())?;
        let stream = async_stream_of(move |tx| async move {
            loop {
                let item = match rx.recv().await {
                    Ok(c) if c.department_id == department_id => Ok(c.change),
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(n)) => Err(Status::aborted(format!(
                        "the watcher fell {n} changes behind; read the cases again with \
                         ListCases and watch anew"
                    ))),
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let end = item.is_err();
                if tx.send(item).await.is_err() || end {
                    return;
                }
            }
        });
        Ok(Response::new(stream))
    }

    async fn list_cases(
        &self,
        request: Request<pb::ListCasesRequest>,
    ) -> Result<Response<pb::ListCasesResponse>, Status> {
        let caller = auth::grpc_caller(&request);
        let list = self
            .updates
            .list(request.into_inner(), caller.as_deref())
            .await?;
        Ok(Response::new(list))
    }

    async fn get_department_scores(
        &self,
        request: Request<pb::GetDepartmentScoresRequest>,
    ) -> Result<Response<pb::GetDepartmentScoresResponse>, Status> {
        let caller = auth::grpc_caller(&request);
        let scores = self
            .updates
            .scores(request.into_inner(), caller.as_deref())
            .await?;
        Ok(Response::new(scores))
    }
}
