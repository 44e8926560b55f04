/// The signing gate: the one question a node asks before it makes a signature share. A share is produced only for a
/// request that consensus committed, with the presignature consensus assigned to exactly that request, for the
/// digest that request signs, in the current epoch, and only while it is unsigned. Anything else is refused with
/// the reason, so a forged, replayed or re-targeted request never reaches the MPC layer.
extension ShardState {
    public func authorizeSigning(presignature: [UInt8], digest: [UInt8], epoch: UInt64) throws(ShardError) -> SigningRequest {
        guard epoch == self.epoch else { throw .wrongEpoch(expected: self.epoch, found: epoch) }
        // Signed requests leave `assignments`, so a used presignature is "not assigned" from here on.
        guard let requestID = assignments[presignature] else { throw .presignatureNotAssigned }
        guard let request = requests[requestID], request.presignature == presignature else { throw .presignatureAssignedElsewhere }
        guard request.signature == nil else { throw .requestAlreadySigned }
        guard request.digest == digest else { throw .digestMismatch }
        return request
    }

    /// The same check keyed by request: the request must be committed and hold `presignature`.
    public func authorizeSigning(request id: [UInt8], presignature: [UInt8], digest: [UInt8], epoch: UInt64) throws(ShardError) -> SigningRequest {
        guard let request = requests[id] else { throw .unknownRequest }
        guard let assigned = request.presignature else { throw .presignatureNotAssigned }
        guard assigned == presignature else { throw .presignatureAssignedElsewhere }
        return try authorizeSigning(presignature: presignature, digest: digest, epoch: epoch)
    }
}
