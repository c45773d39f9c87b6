//! The `minhu.v1.Gateway` gRPC service: a thin shell over [`Intake`]; errors become statuses
//! in [`super::error`].
use std::pin::Pin;

use futures::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

use super::pipeline::Intake;
use crate::pb;
use crate::pb::gateway_server::Gateway;
use crate::protect::auth;

/// SubmitStream requests processed at once per stream. Answers still come back in order.
const STREAM_CONCURRENCY: usize = 256;

/// The tonic service.
pub struct GatewayService {
    intake: Intake,
    max_stream_requests: usize,
}

impl GatewayService {
    pub fn new(intake: Intake) -> Self {
        Self {
            intake,
            max_stream_requests: usize::MAX,
        }
    }

    /// Ends a SubmitStream with RESOURCE_EXHAUSTED at its `max`+1-th request.
    pub fn with_max_stream_requests(mut self, max: usize) -> Self {
        self.max_stream_requests = max;
        self
    }
}

type AnswerStream = Pin<Box<dyn Stream<Item = Result<pb::SubmitStreamResponse, Status>> + Send>>;

#[tonic::async_trait]
impl Gateway for GatewayService {
    async fn submit(
        &self,
        request: Request<pb::SubmitRequest>,
    ) -> Result<Response<pb::SubmitResponse>, Status> {
        let caller = auth::grpc_caller(&request);
        let submit = self.intake.submit(request.into_inner().request);
        Ok(Response::new(auth::scope(caller, submit).await?))
    }

    type SubmitStreamStream = AnswerStream;

    async fn submit_stream(
        &self,
        request: Request<Streaming<pb::SubmitRequest>>,
    ) -> Result<Response<Self::SubmitStreamStream>, Status> {
        let intake = self.intake.clone();
        let caller = auth::grpc_caller(&request);
        let max = self.max_stream_requests;
        // `buffered` runs many Submits concurrently (so they share group commits) while keeping
        // answers in request order. A transport error ends the stream; a bad request does not.
        let answers = request
            .into_inner()
            .take(max.saturating_add(1))
            .enumerate()
            .map(move |(i, item)| {
                let intake = intake.clone();
                let caller = caller.clone();
                async move {
                    if i >= max {
                        // Answers so far stand; the caller resumes in a new stream.
                        return Err(Status::resource_exhausted(format!(
                            "more than {max} requests in one SubmitStream (grpc.max_stream_requests); \
                             start a new stream for the rest"
                        )));
                    }
                    let req = item?;
                    let source_id = req
                        .request
                        .as_ref()
                        .map(|r| r.source_id.clone())
                        .unwrap_or_default();
                    let result = match auth::scope(caller, intake.submit(req.request)).await {
                        Ok(ok) => pb::submit_stream_response::Result::Accepted(ok),
                        Err(e) => {
                            let field = e.field().to_owned();
                            let status = Status::from(e);
                            pb::submit_stream_response::Result::Error(pb::SubmitError {
                                code: status.code() as i32,
                                message: status.message().to_owned(),
                                field,
                            })
                        }
                    };
                    Ok(pb::SubmitStreamResponse {
                        source_id,
                        result: Some(result),
                    })
                }
            })
            .buffered(STREAM_CONCURRENCY);
        Ok(Response::new(Box::pin(answers)))
    }

    async fn get_ticket(
        &self,
        request: Request<pb::GetTicketRequest>,
    ) -> Result<Response<pb::GetTicketResponse>, Status> {
        let caller = auth::grpc_caller(&request);
        let ticket_id = request.into_inner().ticket_id;
        let ticket = auth::scope(caller, self.intake.ticket(&ticket_id)).await?;
        Ok(Response::new(ticket))
    }

    async fn split_ticket(
        &self,
        request: Request<pb::SplitTicketRequest>,
    ) -> Result<Response<pb::SplitTicketResponse>, Status> {
        let caller = auth::grpc_caller(&request);
        let r = request.into_inner();
        let split = auth::scope(caller, self.intake.split(&r.ticket_id, &r.reason)).await?;
        Ok(Response::new(split))
    }
}
