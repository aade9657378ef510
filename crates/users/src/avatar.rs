//! [`AvatarService`]: a user's avatar is one of their files uploaded for it (`files`
//! crate); any signed-in user may fetch it.

use files::{Content, FilesService, Purpose};
use kernel::FieldError;
use uuid::Uuid;

use crate::UserService;
use crate::entities::user;
use crate::error::{Result, UserError};

/// Sets, clears and serves avatars. Cheap to clone.
#[derive(Clone)]
pub struct AvatarService {
    users: UserService,
    files: FilesService,
}

impl AvatarService {
    /// Avatars of `users`' accounts, their images in `files`.
    pub fn new(users: UserService, files: FilesService) -> Self {
        Self { users, files }
    }

    /// Shows `file_id` as the avatar of `user_id`: it must be their own file uploaded with
    /// purpose `avatar` (else [`UserError::Invalid`] naming `file_id`). The updated account.
    pub async fn set(&self, user_id: Uuid, file_id: Uuid) -> Result<user::Model> {
        let file = self
            .files
            .get_owned(user_id, file_id)
            .await
            .map_err(|e| UserError::Store(e.into()))?;
        if !file.is_some_and(|f| f.purpose == Purpose::Avatar) {
            return Err(UserError::Invalid(vec![FieldError::new(
                "file_id",
                format!("{file_id} is not one of your files uploaded with purpose `avatar`"),
            )]));
        }
        self.users.set_avatar(user_id, Some(file_id)).await
    }

    /// Removes the avatar of `user_id` (the file itself stays among their files).
    pub async fn clear(&self, user_id: Uuid) -> Result<()> {
        self.users.set_avatar(user_id, None).await.map(|_| ())
    }

    /// The avatar image of `user_id`; [`UserError::NotFound`] when the user does not exist
    /// or has no avatar.
    pub async fn open(&self, user_id: Uuid) -> Result<Content> {
        let file_id = self
            .users
            .find(user_id)
            .await?
            .and_then(|u| u.avatar_file_id)
            .ok_or(UserError::NotFound)?;
        self.files
            .open_any(file_id)
            .await
            .map_err(|e| UserError::Store(e.into()))
    }
}
