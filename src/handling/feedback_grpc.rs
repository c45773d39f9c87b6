//! The `minhu.v1.Feedback` gRPC service: call-centres record the answers of their follow-up
//! calls (回访) and mini-program backends their users' ratings through the one rating path,
//! [`Ratings::rate`]. Errors become statuses in `crate::intake::error`.
use tonic::{Request, Response, Status};

use super::rating::Ratings;
use crate::pb;
use crate::pb::feedback_server::Feedback;
use crate::protect::auth;

/// The tonic service.
pub struct FeedbackService {
    ratings: Ratings,
}

impl FeedbackService {
    pub fn new(ratings: Ratings) -> Self {
        Self { ratings }
    }
}

#[tonic::async_trait]
impl Feedback for FeedbackService {
    async fn rate(
        &self,
        request: Request<pb::RateRequest>,
    ) -> Result<Response<pb::RateResponse>, Status> {
        let caller = auth::grpc_caller(&request);
        let answer = self
            .ratings
            .rate(request.into_inner(), "grpc", caller.as_deref())
            .await?;
        Ok(Response::new(answer))
    }
}
