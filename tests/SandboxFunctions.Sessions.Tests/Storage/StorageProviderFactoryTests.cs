using Azure.Identity;
using Microsoft.Extensions.Configuration;
using SandboxFunctions.Sessions.Storage;

namespace SandboxFunctions.Sessions.Tests.Storage;

/// <summary>Choosing the store from settings, as an app deployed to Functions or run locally would have them. No network.</summary>
public sealed class StorageProviderFactoryTests
{
    private const string Key = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS1ub3QtcmVhbC0wMTIzNDU2Nzg5YWJjZGVm";

    [Fact]
    public void Without_a_connection_the_file_store_is_used_under_the_data_path()
    {
        var configuration = Settings();

        var provider = StorageProviderFactory.Create(configuration, "relative-data", TimeProvider.System);
        var description = StorageProviderFactory.Describe(configuration, "relative-data");

        var files = Assert.IsType<FileStorageProvider>(provider);
        Assert.Equal(Path.GetFullPath("relative-data"), files.DataPath);
        Assert.Equal("file", provider.Kind);
        Assert.Equal(new StorageDescription("file", $"file store at {Path.GetFullPath("relative-data")}"), description);
    }

    [Fact]
    public void A_connection_string_gives_the_account_endpoints_and_a_description_without_the_key()
    {
        var configuration = Settings(("SessionStorage", $"DefaultEndpointsProtocol=https;AccountName=myacct;AccountKey={Key};EndpointSuffix=core.windows.net"));

        var account = AzureAccount(configuration);
        var description = StorageProviderFactory.Describe(configuration, "data");

        Assert.Equal("myacct", account.AccountName);
        Assert.Equal(new Uri("https://myacct.blob.core.windows.net"), account.BlobServiceUri);
        Assert.Equal(new Uri("https://myacct.table.core.windows.net"), account.TableServiceUri);
        Assert.Equal(new Uri("https://myacct.queue.core.windows.net"), account.QueueServiceUri);
        Assert.True(account.UsesSharedKey);
        Assert.Null(account.TokenCredential);
        Assert.Equal("azure", description.Kind);
        Assert.Equal("azure account 'myacct' (shared key) from setting 'SessionStorage'", description.Summary);
        Assert.DoesNotContain(Key, account.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_connection_string_may_name_another_cloud_and_explicit_endpoints()
    {
        var configuration = Settings((
            "SessionStorage",
            $"AccountName=myacct;AccountKey={Key};DefaultEndpointsProtocol=http;EndpointSuffix=core.chinacloudapi.cn;QueueEndpoint=https://queues.example.test/myacct/"));

        var account = AzureAccount(configuration);

        Assert.Equal(new Uri("http://myacct.blob.core.chinacloudapi.cn"), account.BlobServiceUri);
        Assert.Equal(new Uri("http://myacct.table.core.chinacloudapi.cn"), account.TableServiceUri);
        Assert.Equal(new Uri("https://queues.example.test/myacct/"), account.QueueServiceUri);
    }

    [Fact]
    public void Development_storage_means_the_emulator_at_its_default_ports()
    {
        var configuration = Settings(("SessionStorage", "UseDevelopmentStorage=true"));

        var account = AzureAccount(configuration);
        var description = StorageProviderFactory.Describe(configuration, "data");

        Assert.Equal("devstoreaccount1", account.AccountName);
        Assert.Equal(new Uri("http://127.0.0.1:10000/devstoreaccount1"), account.BlobServiceUri);
        Assert.Equal(new Uri("http://127.0.0.1:10001/devstoreaccount1"), account.QueueServiceUri);
        Assert.Equal(new Uri("http://127.0.0.1:10002/devstoreaccount1"), account.TableServiceUri);
        Assert.True(account.IsDevelopmentStorage);
        Assert.Equal("azure storage emulator account 'devstoreaccount1' at http://127.0.0.1:10000 (shared key) from setting 'SessionStorage'", description.Summary);
    }

    [Fact]
    public void An_account_name_alone_derives_https_endpoints_and_uses_the_default_credential()
    {
        var configuration = Settings(("SessionStorage:accountName", "myacct"));

        var account = AzureAccount(configuration);

        Assert.Equal(new Uri("https://myacct.blob.core.windows.net"), account.BlobServiceUri);
        Assert.Equal(new Uri("https://myacct.table.core.windows.net"), account.TableServiceUri);
        Assert.Equal(new Uri("https://myacct.queue.core.windows.net"), account.QueueServiceUri);
        Assert.IsType<DefaultAzureCredential>(account.TokenCredential);
        Assert.False(account.UsesSharedKey);
        Assert.Equal("azure account 'myacct' (DefaultAzureCredential) from setting 'SessionStorage'", StorageProviderFactory.Describe(configuration, "data").Summary);
    }

    [Fact]
    public void Service_uris_are_used_as_given()
    {
        var configuration = Settings(
            ("SessionStorage:blobServiceUri", "https://blobs.example.test/"),
            ("SessionStorage:tableServiceUri", "https://tables.example.test/"),
            ("SessionStorage:queueServiceUri", "https://queues.example.test/"));

        var account = AzureAccount(configuration);

        Assert.Equal(new Uri("https://blobs.example.test/"), account.BlobServiceUri);
        Assert.Equal(new Uri("https://tables.example.test/"), account.TableServiceUri);
        Assert.Equal(new Uri("https://queues.example.test/"), account.QueueServiceUri);
        Assert.IsType<DefaultAzureCredential>(account.TokenCredential);
    }

    [Fact]
    public void The_blob_uri_alone_gives_the_other_services_on_its_host()
    {
        var configuration = Settings(("SessionStorage:blobServiceUri", "https://myacct.blob.core.usgovcloudapi.net"));

        var account = AzureAccount(configuration);

        Assert.Equal("myacct", account.AccountName);
        Assert.Equal(new Uri("https://myacct.blob.core.usgovcloudapi.net"), account.BlobServiceUri);
        Assert.Equal(new Uri("https://myacct.table.core.usgovcloudapi.net"), account.TableServiceUri);
        Assert.Equal(new Uri("https://myacct.queue.core.usgovcloudapi.net"), account.QueueServiceUri);
    }

    [Fact]
    public void An_ambiguous_service_uri_is_refused_with_the_settings_to_use()
    {
        var configuration = Settings(("SessionStorage:serviceUri", "https://myacct.blob.core.windows.net"));

        var error = Assert.Throws<InvalidOperationException>(() => StorageProviderFactory.Create(configuration, Path.GetTempPath(), TimeProvider.System));

        Assert.Contains("SessionStorage__blobServiceUri", error.Message, StringComparison.Ordinal);
        Assert.Contains("SessionStorage__queueServiceUri", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Managed_identity_with_a_client_id_is_that_user_assigned_identity()
    {
        var configuration = Settings(
            ("SessionStorage:accountName", "myacct"),
            ("SessionStorage:credential", "managedidentity"),
            ("SessionStorage:clientId", "00000000-1111-2222-3333-444444444444"));

        var account = AzureAccount(configuration);

        Assert.IsType<ManagedIdentityCredential>(account.TokenCredential);
        Assert.Equal(
            "azure account 'myacct' (managed identity, client id 00000000-1111-2222-3333-444444444444) from setting 'SessionStorage'",
            StorageProviderFactory.Describe(configuration, "data").Summary);
    }

    [Fact]
    public void Managed_identity_without_a_client_id_is_the_system_assigned_identity()
    {
        var configuration = Settings(("SessionStorage:accountName", "myacct"), ("SessionStorage:credential", "ManagedIdentity"));

        Assert.IsType<ManagedIdentityCredential>(AzureAccount(configuration).TokenCredential);
        Assert.Contains("(system-assigned managed identity)", StorageProviderFactory.Describe(configuration, "data").Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Identity_settings_from_environment_variables_use_double_underscores()
    {
        var prefix = $"SFTEST{Guid.NewGuid():N}_";
        Environment.SetEnvironmentVariable(prefix + "SessionStorage__accountName", "envacct");
        Environment.SetEnvironmentVariable(prefix + "SessionStorage__credential", "managedidentity");
        try
        {
            var configuration = new ConfigurationBuilder().AddEnvironmentVariables(prefix).Build();

            var account = AzureAccount(configuration);

            Assert.Equal(new Uri("https://envacct.table.core.windows.net"), account.TableServiceUri);
            Assert.IsType<ManagedIdentityCredential>(account.TokenCredential);
        }
        finally
        {
            Environment.SetEnvironmentVariable(prefix + "SessionStorage__accountName", null);
            Environment.SetEnvironmentVariable(prefix + "SessionStorage__credential", null);
        }
    }

    [Fact]
    public void AzureWebJobsStorage_is_the_fallback_and_SessionStorage_wins_over_it()
    {
        var fallbackOnly = Settings(("AzureWebJobsStorage", $"AccountName=jobsacct;AccountKey={Key}"));
        var both = Settings(("AzureWebJobsStorage", $"AccountName=jobsacct;AccountKey={Key}"), ("SessionStorage:accountName", "sessionacct"));

        Assert.Equal("jobsacct", AzureAccount(fallbackOnly).AccountName);
        Assert.EndsWith("from setting 'AzureWebJobsStorage'", StorageProviderFactory.Describe(fallbackOnly, "data").Summary, StringComparison.Ordinal);
        Assert.Equal("sessionacct", AzureAccount(both).AccountName);
        Assert.EndsWith("from setting 'SessionStorage'", StorageProviderFactory.Describe(both, "data").Summary, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SessionStorage", "AccountName=myacct;EndpointSuffix=core.windows.net", "'SessionStorage'", "AccountKey")]
    [InlineData("SessionStorage", "AccountName=myacct;AccountKey=not*base64*SECRET", "'SessionStorage'", "AccountKey is not valid base64")]
    [InlineData("SessionStorage", "this is not a connection string", "'SessionStorage'", "name=value")]
    [InlineData("SessionStorage", "BlobEndpoint=https://myacct.blob.core.windows.net;SharedAccessSignature=sv=2024&sig=SECRET", "'SessionStorage'", "SharedAccessSignature")]
    [InlineData("SessionStorage", "AccountName=myacct;AccountKey=" + Key + ";TableEndpoint=not a uri SECRET", "'SessionStorage'", "TableEndpoint")]
    [InlineData("SessionStorage", "UseDevelopmentStorage=maybe", "'SessionStorage'", "UseDevelopmentStorage")]
    [InlineData("AzureWebJobsStorage", "AccountKey=" + Key, "'AzureWebJobsStorage'", "AccountName")]
    [InlineData("SessionStorage:blobServiceUri", "not a uri SECRET", "'SessionStorage__blobServiceUri'", "absolute")]
    [InlineData("SessionStorage:blobServiceUri", "http://myacct.blob.core.windows.net", "'SessionStorage__blobServiceUri'", "https")]
    [InlineData("SessionStorage:blobServiceUri", "https://myacct.blob.core.windows.net/?sv=2024&sig=SECRET", "'SessionStorage__blobServiceUri'", "SAS")]
    [InlineData("SessionStorage:blobServiceUri", "https://blobs.example.test", "'SessionStorage__tableServiceUri'", "accountName")]
    [InlineData("SessionStorage:tableServiceUri", "https://myacct.table.core.windows.net", "'SessionStorage__blobServiceUri'", "missing")]
    [InlineData("SessionStorage:accountName", "Not_An_Account", "'SessionStorage__accountName'", "lowercase letters and digits")]
    [InlineData("SessionStorage:credential", "clientsecret", "'SessionStorage__credential'", "managedidentity")]
    public void Invalid_configuration_names_the_setting_and_what_is_wrong_without_echoing_secrets(string key, string value, string setting, string problem)
    {
        var configuration = Settings((key, value));

        var create = Assert.Throws<InvalidOperationException>(() => StorageProviderFactory.Create(configuration, "data", TimeProvider.System));
        var describe = Assert.Throws<InvalidOperationException>(() => StorageProviderFactory.Describe(configuration, "data"));

        Assert.Contains(setting, create.Message, StringComparison.Ordinal);
        Assert.Contains(problem, create.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", create.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, create.Message, StringComparison.Ordinal);
        Assert.Equal(create.Message, describe.Message);
    }

    private static IConfiguration Settings(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();

    private static AzureStorageAccount AzureAccount(IConfiguration configuration)
    {
        var provider = Assert.IsType<AzureStorageProvider>(StorageProviderFactory.Create(configuration, "data", TimeProvider.System));
        Assert.Equal("azure", provider.Kind);
        return provider.Account;
    }
}
